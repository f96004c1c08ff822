//! The `attention-lab` binary: no subcommand opens the GUI; subcommands do headless work.
//! Built for wasm32 (`web/build.sh`) it is the browser app instead: `attention_lab::web::start`.

/// The allocator of the native app: mimalloc (Microsoft's, v3) instead of the system's malloc.
/// On Linux it asks for transparent huge pages (`madvise(MADV_HUGEPAGE)`, its `allow_thp`
/// option, on by default) for its 2 MiB-aligned arenas, so the training step's arrays (about
/// 200 MB at the large size, most of them 0.5–2 MB each) sit on 2 MiB pages instead of 4 KiB
/// ones, and the products' cold operands miss the TLB far less (`engine`'s header has the
/// measurements: the large training step about 1.045× as fast). With glibc's malloc the arrays
/// got no huge pages at all (0 kB of `AnonHugePages`, also with its `glibc.malloc.hugetlb=1`
/// tunable): most are smaller than 2 MiB, each in a 4 KiB-aligned mapping of its own.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// In a browser: start the app in the page's canvas (`web/index.html`).
#[cfg(target_arch = "wasm32")]
fn main() {
    attention_lab::web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    native::main()
}

/// The command line and the native window.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::process::ExitCode;

    use attention_lab::app::{LabApp, StartOptions, ThemeChoice};
    use attention_lab::cli;
    use clap::{Parser, Subcommand};

    #[derive(Parser)]
    #[command(
        name = "attention-lab",
        version,
        about = "Run a small transformer live in front of a class."
    )]
    struct Args {
        /// Open the GUI at this lesson (see `attention-lab lessons`).
        #[arg(long, value_name = "ID")]
        lesson: Option<String>,
        /// Start in presentation mode (F5 toggles it).
        #[arg(long)]
        present: bool,
        /// Open the window full screen (F11 toggles it).
        #[arg(long)]
        fullscreen: bool,
        /// The window's size in points, e.g. 1920x1080 (default 1280x800).
        #[arg(long, value_name = "WxH", value_parser = parse_size)]
        window_size: Option<[f32; 2]>,
        /// Start training at once (the live lesson retrains from scratch and plays).
        #[arg(long)]
        play: bool,
        /// Set a setting of the --lesson lesson: --set key=value (repeatable; see `data ID` for the keys).
        #[arg(long = "set", value_name = "KEY=VALUE", requires = "lesson")]
        set: Vec<String>,
        /// Colour theme: light (for projectors) or dark.
        #[arg(long, value_name = "THEME")]
        theme: Option<Theme>,
        #[command(subcommand)]
        command: Option<Command>,
    }

    #[derive(Clone, Copy, clap::ValueEnum)]
    enum Theme {
        Light,
        Dark,
    }

    #[derive(Subcommand)]
    enum Command {
        /// List the lessons: ids and titles, in lecture order.
        Lessons,
        /// Print the numbers behind a lesson's figures as JSON.
        Data {
            /// Lesson id (see `attention-lab lessons`).
            id: String,
            /// Override a setting of the lesson: --set key=value (repeatable).
            #[arg(long = "set", value_name = "KEY=VALUE")]
            set: Vec<String>,
        },
        /// Train a model headlessly and save it as .safetensors.
        Train(cli::train::TrainArgs),
        /// Run a checkpoint on a prompt and print tokens, logits, attention and loss as JSON.
        Inspect(cli::inspect::InspectArgs),
        /// Time training steps and forward passes for the reference model sizes.
        Bench(cli::bench::BenchArgs),
    }

    pub fn main() -> ExitCode {
        let args = Args::parse();
        match args.command {
            Some(Command::Lessons) => cli::lessons::run(),
            Some(Command::Data { id, set }) => cli::data::run(&id, &set),
            Some(Command::Train(args)) => cli::train::run(&args),
            Some(Command::Inspect(args)) => cli::inspect::run(&args),
            Some(Command::Bench(args)) => cli::bench::run(&args),
            None => {
                let theme = args.theme.map(|t| match t {
                    Theme::Light => ThemeChoice::Light,
                    Theme::Dark => ThemeChoice::Dark,
                });
                if let Some(id) = &args.lesson
                    && let Err(e) = cli::data::data_json_check(id, &args.set)
                {
                    return cli::usage_error(&e);
                }
                let sets = args
                    .set
                    .iter()
                    .filter_map(|s| cli::parse_key_value(s).ok())
                    .collect();
                let window = Window {
                    fullscreen: args.fullscreen,
                    // A size asked for wins over the one saved from the last session.
                    remember: args.window_size.is_none(),
                    size: args.window_size.unwrap_or([1280.0, 800.0]),
                };
                run_gui(
                    window,
                    StartOptions {
                        lesson: args.lesson,
                        present: args.present,
                        theme,
                        play: args.play,
                        sets,
                        notes: Vec::new(),
                    },
                )
            }
        }
    }

    /// The name eframe files the app's saved state under.
    const APP_ID: &str = "attention-lab";

    /// How the window opens.
    struct Window {
        fullscreen: bool,
        remember: bool,
        size: [f32; 2],
    }

    /// "1920x1080" → [1920, 1080], each between 320 and 16384.
    fn parse_size(s: &str) -> Result<[f32; 2], String> {
        let bad = || format!("expected WIDTHxHEIGHT such as 1920x1080, got \"{s}\"");
        let (w, h) = s.split_once(['x', 'X', '×']).ok_or_else(bad)?;
        let parse = |v: &str| -> Result<f32, String> {
            let n: u32 = v.trim().parse().map_err(|_| bad())?;
            if (320..=16384).contains(&n) {
                Ok(n as f32)
            } else {
                Err(format!("each side must be between 320 and 16384, got {n}"))
            }
        };
        Ok([parse(w)?, parse(h)?])
    }

    fn run_gui(window: Window, mut start: StartOptions) -> ExitCode {
        if let Some(id) = &start.lesson
            && let Err(e) = cli::check_lesson_id(id)
        {
            return cli::usage_error(&e);
        }
        if !display_available() {
            eprintln!(
                "attention-lab: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open; \
             headless commands still work: `attention-lab lessons`, `attention-lab data ID`."
            );
            return ExitCode::FAILURE;
        }
        // Before eframe reads its saved state: a saved zoom or window geometry that would panic or
        // open off screen is removed (and said so in the status bar).
        if let Some(dir) = eframe::storage_dir(APP_ID) {
            start.notes = attention_lab::app::sanitize_saved_state(&dir.join("app.ron"));
        }
        let options = eframe::NativeOptions {
            viewport: egui::ViewportBuilder::default()
                .with_title("attention-lab")
                .with_app_id(APP_ID)
                .with_inner_size(window.size)
                .with_min_inner_size([800.0, 520.0])
                .with_fullscreen(window.fullscreen),
            persist_window: window.remember,
            ..Default::default()
        };
        match eframe::run_native(
            APP_ID,
            options,
            Box::new(move |cc| Ok(Box::new(LabApp::new(cc, start)))),
        ) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "attention-lab: could not open the window ({e}); headless commands still work: \
                 `attention-lab lessons`, `attention-lab data ID`."
                );
                ExitCode::FAILURE
            }
        }
    }

    /// On Linux and the BSDs the GUI needs an X11 or Wayland display.
    fn display_available() -> bool {
        if cfg!(all(unix, not(target_os = "macos"))) {
            let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
            set("DISPLAY") || set("WAYLAND_DISPLAY")
        } else {
            true
        }
    }
}
