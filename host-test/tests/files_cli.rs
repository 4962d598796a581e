//! `sf-host upload` and `sf-host download` as a user runs them, against the
//! mock: a file goes up as a new ContentVersion, comes back byte for byte,
//! and a failed download leaves no file behind.

mod support;

use salesforce_mock::{Mock, MockOptions};
use support::{assert_clean, sf_host};

#[test]
fn a_file_uploads_and_downloads_byte_for_byte() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(Mock::start(MockOptions::default())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("scan.pdf");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&input, &bytes).unwrap();

    let up = sf_host(&mock)
        .arg("upload")
        .arg(&input)
        .args(["--data", r#"{"Title":"Scanned contract"}"#])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&up.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(up.status.success(), "{stderr}");
    assert!(stdout.starts_with("068") && stdout.len() == 18, "{stdout}");
    assert!(stderr.contains("uploaded 3000000 bytes"), "{stderr}");
    assert_clean(&mock, &stderr);
    assert_eq!(mock.blob("ContentVersion", &stdout).unwrap(), bytes);

    let out = dir.path().join("back.pdf");
    let down = sf_host(&mock)
        .args(["download", "ContentVersion", &stdout, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert!(down.status.success(), "{stderr}");
    assert!(
        stderr.contains("wrote 3000000 bytes (application/pdf)"),
        "{stderr}"
    );
    assert!(std::fs::read(&out).unwrap() == bytes);

    let missing = dir.path().join("missing.pdf");
    let failed = sf_host(&mock)
        .args(["download", "ContentVersion", "068000000000000AAA", "--out"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(4), "a 404 is an API error");
    assert!(!missing.exists() && !missing.with_extension("partial").exists());
}
