//! The open-file limit and the connection cap derived from it. Every connection is a file
//! descriptor; so are the database's files and connections and the log. Past the limit,
//! `accept` fails and so can opening the database, so the number of client connections is kept
//! below the limit with room to spare.

/// Descriptors kept free of client connections: the database (its files or its pool), the
/// log, the listeners, and the metrics listener's own connections.
pub const HEADROOM: u64 = 256;

/// Raises the soft open-file limit to the hard limit and returns the soft limit then in force
/// (`None` where it cannot be read, or is unlimited).
#[cfg(unix)]
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(err) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(error = %err, "cannot raise the open-file limit to the hard limit");
        }
    }
    getrlimit(Resource::Nofile).current
}

/// Raises nothing where there is no such limit.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> Option<u64> {
    None
}

/// The connections the API listener may hold: `wanted`, but no more than the open-file limit
/// less [`HEADROOM`] (at least a quarter of the limit, and at least one).
pub fn connection_cap(wanted: usize, open_file_limit: Option<u64>) -> usize {
    let Some(limit) = open_file_limit else {
        return wanted.max(1);
    };
    let room = limit.saturating_sub(HEADROOM).max(limit / 4).max(1);
    wanted
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_open_file_limit() {
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(connection_cap(10_000, Some(1024)), 768);
        assert_eq!(connection_cap(10_000, Some(200)), 50);
        assert_eq!(connection_cap(10, Some(1024)), 10);
        assert_eq!(connection_cap(10, None), 10);
        assert_eq!(connection_cap(0, Some(0)), 1);
    }
}
