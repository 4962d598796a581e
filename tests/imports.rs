//! The component's import surface: what a host must provide to load it.

mod common;

#[test]
fn imports_are_wasi_http_plus_what_std_needs() {
    let imports = common::connector().imports();
    println!("{}", imports.join("\n"));
    assert!(
        imports.contains(&"wasi:http/outgoing-handler@0.2.12".to_string()),
        "{imports:?}"
    );
    for forbidden in ["wasi:filesystem", "wasi:sockets"] {
        assert!(
            !imports.iter().any(|i| i.starts_with(forbidden)),
            "{forbidden} must not be imported: {imports:?}"
        );
    }
}
