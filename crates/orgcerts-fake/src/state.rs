use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

/// A certificate the fake holds. Deleted ones stay, marked, so that `after` can name them.
#[derive(Debug, Clone)]
pub struct CertificateRecord {
    pub id: String,
    pub name: Option<String>,
    pub created_at: u64,
    pub valid_at: u64,
    pub expires_at: u64,
    pub pem: String,
    pub der: Vec<u8>,
    pub active: bool,
    pub active_projects: BTreeSet<String>,
    pub deleted: bool,
}

/// A project the fake holds.
#[derive(Debug, Clone)]
pub struct ProjectRecord {
    pub id: String,
    pub name: String,
    pub created_at: u64,
    pub archived_at: Option<u64>,
}

/// Everything the fake keeps, in creation order.
#[derive(Debug)]
pub(crate) struct Data {
    pub(crate) certificates: Vec<CertificateRecord>,
    pub(crate) projects: Vec<ProjectRecord>,
    pub(crate) certificate_limit: usize,
    next_id: u64,
}

impl Default for Data {
    fn default() -> Self {
        Self {
            certificates: Vec::new(),
            projects: Vec::new(),
            certificate_limit: 50,
            next_id: 0,
        }
    }
}

impl Data {
    /// A fresh id: the prefix and 24 characters, unique in this fake.
    pub(crate) fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:0>24}", format!("fake{}", self.next_id))
    }

    pub(crate) fn certificate(&mut self, id: &str) -> Option<&mut CertificateRecord> {
        self.certificates
            .iter_mut()
            .find(|record| record.id == id && !record.deleted)
    }

    pub(crate) fn project(&mut self, id: &str) -> Option<&mut ProjectRecord> {
        self.projects.iter_mut().find(|record| record.id == id)
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
