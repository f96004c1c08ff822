//! What the browser build needs of the page, below the app: the document, the console, downloads
//! and the file picker (wasm32 only). `files.rs` and `widgets/file_dialog.rs` use it for the
//! browser's side of saving and loading; `web.rs` (the entry point, above the app) for the rest.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The page's document.
pub fn document() -> Result<web_sys::Document, String> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| "no document (not running in a page)".to_owned())
}

/// A line in the browser's console (a warning, not an error: the browser test fails on errors).
pub fn log(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}

/// A JavaScript error as text.
pub fn js_text(v: &JsValue) -> String {
    v.as_string()
        .or_else(|| {
            v.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

/// Offer `bytes` to the user as a download named `name` (the browser's Save dialog or Downloads).
pub fn download(name: &str, bytes: &[u8], mime: &str) -> Result<(), String> {
    let doc = document()?;
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| js_text(&e))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| js_text(&e))?;
    let anchor = doc
        .create_element("a")
        .map_err(|e| js_text(&e))?
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .map_err(|_| "cannot create a link".to_owned())?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    web_sys::Url::revoke_object_url(&url).map_err(|e| js_text(&e))
}

/// What [`pick_file`] delivers: the file's name and bytes, or why there are none.
pub type Picked = Rc<RefCell<Option<Result<(String, Vec<u8>), String>>>>;

/// Open the browser's file picker for files ending in `accept` (e.g. ".safetensors"); the chosen
/// file's name and bytes arrive in the returned slot (poll it each frame), then `arrived` is
/// called (the GUI repaints). Cancelling the picker leaves the slot empty.
pub fn pick_file(accept: &str, arrived: impl Fn() + 'static) -> Result<Picked, String> {
    let doc = document()?;
    let input = doc
        .create_element("input")
        .map_err(|e| js_text(&e))?
        .dyn_into::<web_sys::HtmlInputElement>()
        .map_err(|_| "cannot create a file input".to_owned())?;
    input.set_type("file");
    input.set_accept(accept);
    let slot: Picked = Rc::default();
    let theirs = Rc::clone(&slot);
    let chosen = input.clone();
    let on_change = Closure::once_into_js(move || {
        let Some(file) = chosen.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        wasm_bindgen_futures::spawn_local(async move {
            let read = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
            let result = match read {
                Ok(buffer) => Ok((name, js_sys::Uint8Array::new(&buffer).to_vec())),
                Err(e) => Err(format!("cannot read {name}: {}", js_text(&e))),
            };
            *theirs.borrow_mut() = Some(result);
            arrived();
        });
    });
    input.set_onchange(Some(on_change.unchecked_ref()));
    input.click();
    Ok(slot)
}
