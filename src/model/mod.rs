//! Pure math on ndarray f32. Never imports egui.
