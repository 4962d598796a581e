//! `sf-host bulk` as a user runs it, against the mock: an import cut into
//! parts with a failed row (its error in a file, exit code 4), then an
//! export paged into one CSV.

mod support;

use salesforce_mock::{Mock, MockOptions};
use support::{assert_clean, sf_host};

#[test]
fn sf_host_bulk_imports_in_parts_reports_failures_and_exports() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mock = rt.block_on(Mock::start(MockOptions::default())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("accounts.csv");
    let mut text = String::from("Name,NumberOfEmployees\r\n");
    for i in 0..40 {
        text.push_str(&format!("\"Import {i:02}, Inc.\",{i}\r\n"));
    }
    text.push_str(",7\r\n");
    std::fs::write(&input, &text).unwrap();

    let out = sf_host(&mock)
        .args(["bulk", "import"])
        .arg(&input)
        .args(["--object", "Account", "--part-bytes", "400"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_clean(&mock, &stdout);
    assert_clean(&mock, &String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(4),
        "a failed row is exit 4: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("41 rows processed, 1 failed"), "{stdout}");
    let jobs: u32 = stdout
        .split(" job(s)")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the summary counts jobs");
    assert!(jobs >= 3, "400-byte parts make several jobs: {stdout}");
    let failures = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("accounts.failed-"))
        .expect("the failures file");
    assert!(
        stdout.contains(&*failures.to_string_lossy()),
        "the summary names it: {stdout}"
    );
    let failed = std::fs::read_to_string(&failures).unwrap();
    assert!(
        failed.contains("REQUIRED_FIELD_MISSING") && failed.lines().count() == 2,
        "{failed}"
    );

    let export = dir.path().join("out.csv");
    let out = sf_host(&mock)
        .args([
            "bulk",
            "export",
            "SELECT Name FROM Account WHERE Name LIKE 'Import %'",
            "--page-size",
            "7",
            "--out",
        ])
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<String> = csv::Reader::from_path(&export)
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(rows.len(), 40, "one header, every row once: {rows:?}");
    assert!(rows.contains(&"Import 07, Inc.".to_string()));
}
