//! Human-label loaders on fixtures in the real formats: an excerpt of MCL-JCI's `jnd_first.csv` as
//! distributed, and rows in KonJND-1k's published `subjective_ratings.csv` schema (the KonJND-1k
//! values are made up: the data set is not available here, its schema is).
#![allow(clippy::unwrap_used)] // test code

use std::path::Path;

use trainer::human::{MclJci, PwJnd, parse_konjnd};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/labels").join(name))
        .unwrap()
}

#[test]
fn mcl_jci_excerpt_gives_mean_and_sur75() {
    let m = MclJci::parse(&fixture("mcl-jci-first-sample.csv"), "sample").unwrap();
    assert_eq!(m.images.len(), 5);
    assert_eq!(m.images[0].1.len(), 30);
    // Image 1's subjects: mean of its 30 first-JND QFs.
    let mean = m.picture_jnd(PwJnd::Mean)[0].1;
    let expected: f64 = [
        29, 23, 31, 29, 38, 23, 23, 29, 20, 28, 23, 17, 16, 17, 19, 35, 41, 14, 14, 32, 23, 23, 23, 23, 37,
        35, 23, 31, 23, 23,
    ]
    .iter()
    .map(|&v| f64::from(v))
    .sum::<f64>()
        / 30.0;
    assert!((mean - expected).abs() < 1e-9);
    let sur = m.picture_jnd(PwJnd::Sur(0.75))[0].1;
    assert!(sur > mean && sur <= 41.0, "{sur}");
}

#[test]
fn the_full_mcl_jci_matrix_matches_its_readme() {
    // The MCL-JCI matrix is committed under fixtures/ (see fixtures/README.md): tests read nothing
    // outside the repository.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/labels/mcl-jci/jnd_first.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let m = MclJci::parse(&text, "jnd_first.csv").unwrap();
    assert_eq!(m.images.len(), 50);
    let means: Vec<f64> = m.picture_jnd(PwJnd::Mean).into_iter().map(|(_, v)| v).collect();
    // README: per-image mean first JND, median 25.7, range 16.9 to 52.1.
    let median = trainer::human::quantile(&means, 0.5);
    assert!((median - 25.7).abs() < 0.05, "{median}");
    let (lo, hi) = means.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!((lo - 16.9).abs() < 0.05 && (hi - 52.1).abs() < 0.05, "{lo} {hi}");
}

#[test]
fn malformed_mcl_jci_rows_are_named() {
    let err = MclJci::parse(&fixture("mcl-jci-bad-value.csv"), "bad.csv").unwrap_err().to_string();
    assert!(err.contains("bad.csv:3") && err.contains("s02") && err.contains("abc"), "{err}");
    assert!(MclJci::parse("", "e.csv").unwrap_err().to_string().contains("empty"));
    assert!(MclJci::parse("id,a\n1,2\n", "h.csv").unwrap_err().to_string().contains("header"));
    assert!(
        MclJci::parse("image,s01,s02\n1,20\n", "n.csv")
            .unwrap_err()
            .to_string()
            .contains("expected 3 fields")
    );
    assert!(MclJci::parse("image,s01\n1,120\n", "r.csv").unwrap_err().to_string().contains("0..=100"));
}

#[test]
fn konjnd_rows_parse_with_their_json_ratings() {
    let rows = parse_konjnd(&fixture("konjnd-1k-sample.csv"), "sample").unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].compression, "BPG");
    assert_eq!(rows[0].ratings, [36.0, 38.0, 42.0, 44.0, 46.0]);
    assert_eq!(rows[0].picture_jnd(PwJnd::Mean), 41.2);
    assert_eq!(rows[0].picture_jnd(PwJnd::Sur(0.75)), 44.0);
}

#[test]
fn malformed_konjnd_rows_are_named() {
    let err = parse_konjnd(&fixture("konjnd-1k-bad-count.csv"), "k.csv").unwrap_err().to_string();
    assert!(err.contains("k.csv:2") && err.contains("says 6"), "{err}");
    let header = "image_id,Compression type,No. of ratings,mean,std,ratings\n";
    let json = format!("{header}1,JPEG,2,40,1,\"[40, oops]\"\n");
    assert!(parse_konjnd(&json, "j.csv").unwrap_err().to_string().contains("JSON"));
    let kind = format!("{header}1,WEBP,1,40,1,\"[40]\"\n");
    assert!(parse_konjnd(&kind, "t.csv").unwrap_err().to_string().contains("JPEG or BPG"));
    assert!(parse_konjnd("image,mean\n", "h.csv").unwrap_err().to_string().contains("header"));
    let mean = format!("{header}1,JPEG,1,forty,1,\"[40]\"\n");
    assert!(parse_konjnd(&mean, "m.csv").unwrap_err().to_string().contains("mean 'forty'"));
}
