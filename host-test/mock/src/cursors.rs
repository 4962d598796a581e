//! Server-side query cursors behind `nextRecordsUrl` locators, and the rules
//! that make them go away: an idle timeout and a cap on how many one user
//! keeps open (the mock has one user, so the cap is per mock).
//!
//! Sources disagree on these rules. The SOAP API guide ("QueryLocator", up to
//! API 55.0) says locators "expire automatically after 15 minutes of
//! inactivity" and "a user can have up to 10 query cursors open at a time ...
//! the oldest of the 10 cursors is released". The current limits cheat sheet
//! ("API Query Cursor Limits") says that since API 56.0 cursors last 2 days
//! and their number is unlimited. The defaults keep the older, stricter rules
//! (a client that copes with them copes with both); `Knobs::set_locator_ttl`
//! and `Knobs::set_max_open_locators` relax them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Idle lifetime by default: SOAP API guide, "QueryLocator".
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);
/// Open cursors per user by default: SOAP API guide, "QueryLocator".
pub(crate) const DEFAULT_MAX_OPEN: usize = 10;
/// Without a cap, old cursors still go past this many, so a long run stays bounded.
const MEMORY_CAP: usize = 500;

/// One result row as served, and how much of a batch it uses up.
pub(crate) struct Row {
    pub json: String,
    /// 1 plus its child-relationship rows: "Child objects count toward the
    /// number of records for the batch size" (REST guide, "Query Options Header").
    pub weight: usize,
}

/// A query result waiting for its next pages.
pub(crate) struct Cursor {
    pub rows: Arc<Vec<Row>>,
    pub batch: usize,
    opened: Instant,
    last_used: Instant,
}

#[derive(Default)]
pub(crate) struct Cursors {
    open: HashMap<String, Cursor>,
}

impl Cursors {
    /// Keep `rows` under `locator`, releasing the oldest cursor when `max_open` are open.
    pub(crate) fn open(
        &mut self,
        locator: String,
        rows: Arc<Vec<Row>>,
        batch: usize,
        ttl: Option<Duration>,
        max_open: Option<usize>,
    ) {
        self.drop_idle(ttl);
        let cap = max_open.unwrap_or(MEMORY_CAP).min(MEMORY_CAP);
        while self.open.len() >= cap.max(1) {
            let oldest = self
                .open
                .iter()
                .min_by_key(|(_, c)| c.opened)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.open.remove(&k),
                None => break,
            };
        }
        let now = Instant::now();
        let cursor = Cursor {
            rows,
            batch,
            opened: now,
            last_used: now,
        };
        self.open.insert(locator, cursor);
    }

    /// The rows and batch size behind `locator`, if it is open and has not
    /// idled past `ttl`; using it restarts its idle clock.
    pub(crate) fn touch(
        &mut self,
        locator: &str,
        ttl: Option<Duration>,
    ) -> Option<(Arc<Vec<Row>>, usize)> {
        self.drop_idle(ttl);
        let c = self.open.get_mut(locator)?;
        c.last_used = Instant::now();
        Some((c.rows.clone(), c.batch))
    }

    fn drop_idle(&mut self, ttl: Option<Duration>) {
        if let Some(ttl) = ttl {
            self.open.retain(|_, c| c.last_used.elapsed() < ttl);
        }
    }
}

/// Where the page starting at `offset` ends: as many rows as fit in `batch`,
/// but at least one, so a page that is not the last is never empty.
pub(crate) fn page_end(rows: &[Row], offset: usize, batch: usize) -> usize {
    let mut used = 0;
    let mut end = offset;
    for row in rows.iter().skip(offset) {
        if end > offset && used + row.weight > batch {
            break;
        }
        used += row.weight;
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(weights: &[usize]) -> Arc<Vec<Row>> {
        Arc::new(
            weights
                .iter()
                .map(|&weight| Row {
                    json: String::new(),
                    weight,
                })
                .collect(),
        )
    }

    #[test]
    fn children_shorten_a_page_but_never_empty_it() {
        let r = rows(&[1, 150, 100, 1, 500, 1]);
        assert_eq!(page_end(&r, 0, 200), 2);
        assert_eq!(page_end(&r, 2, 200), 4);
        assert_eq!(page_end(&r, 4, 200), 5, "one heavy row alone");
        assert_eq!(page_end(&r, 5, 200), 6);
    }

    #[test]
    fn the_oldest_cursor_is_released_at_the_cap() {
        let mut c = Cursors::default();
        for i in 0..3 {
            c.open(format!("l{i}"), rows(&[1]), 200, None, Some(2));
        }
        assert!(c.touch("l0", None).is_none());
        assert!(c.touch("l1", None).is_some() && c.touch("l2", None).is_some());
    }

    #[test]
    fn an_idle_cursor_expires() {
        let mut c = Cursors::default();
        c.open("l".into(), rows(&[1]), 200, None, None);
        assert!(c.touch("l", Some(Duration::ZERO)).is_none());
    }
}
