//! Domain errors, named after the condition. The HTTP layer maps each variant to a status and an
//! OpenAI error code in one exhaustive `match`.

/// A failure of the storage engine itself (I/O, a broken connection, a bug), never a client's
/// mistake. Its text goes to the log only.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl StorageError {
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(err.into())
    }
}

/// Everything an orgcerts operation can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Incorrect API key provided.")]
    InvalidApiKey,

    #[error("Invalid certificate: {0}")]
    InvalidCertificate(String),
    #[error(
        "The certificate expires at {expires_at} (Unix seconds), less than 24 hours from now; upload a certificate that stays valid longer."
    )]
    ExpiredCertificate { expires_at: i64 },
    #[error(
        "This organization already holds the maximum of {max} certificates; delete one before uploading another."
    )]
    CertificateLimitExceeded { max: u32 },
    #[error("This certificate has already been uploaded to this organization as {existing_id}.")]
    CertificateAlreadyExists { existing_id: String },
    #[error("No certificate found with id '{id}'.")]
    CertificateNotFound { id: String },
    #[error(
        "Certificate '{id}' is active for the organization or a project; deactivate it everywhere before deleting it."
    )]
    CertificateInUse { id: String },

    /// An attribute filter that does not compile: the message says what and where.
    #[error("Invalid attribute_filter: {message}")]
    InvalidAttributeFilter { message: String },

    #[error("No project found with id '{id}'.")]
    ProjectNotFound { id: String },
    #[error("Project '{id}' is archived; archived projects cannot be changed.")]
    ProjectArchived { id: String },

    #[error("No service account found with id '{id}' in this project.")]
    ServiceAccountNotFound { id: String },
    #[error("No API key found with id '{id}' in this project.")]
    ProjectApiKeyNotFound { id: String },

    #[error("{field} must be at most {max} characters long; it has {len}.")]
    NameTooLong {
        field: &'static str,
        max: usize,
        len: usize,
    },
    #[error("{field} {reason}.")]
    InvalidName {
        field: &'static str,
        reason: &'static str,
    },

    #[error("certificate_ids must name at least one certificate.")]
    NoCertificateIds,
    #[error("certificate_ids may name at most {max} certificates at a time; it names {count}.")]
    TooManyCertificateIds { count: usize, max: usize },
    #[error("No certificate found with id '{id}'; nothing was changed.")]
    UnknownCertificateInSet { id: String },

    #[error("Invalid limit '{value}': limit must be an integer between 1 and 100.")]
    InvalidLimit { value: String },
    #[error("Invalid order '{value}': order must be 'asc' or 'desc'.")]
    InvalidOrder { value: String },
    #[error("Invalid after '{value}': it names no object of this organization.")]
    UnknownCursor { value: String },
    #[error("Invalid value for {param}: {message}")]
    InvalidParameter {
        param: &'static str,
        message: String,
    },

    #[error("organization '{id}' does not exist")]
    OrganizationNotFound { id: String },
    #[error("admin key '{id}' does not exist in this organization")]
    AdminKeyNotFound { id: String },

    /// The database cannot be reached right now (connection refused, pool exhausted within
    /// its timeout). Clients may retry; the server recovers by itself when it is back.
    #[error("storage unavailable: {0}")]
    StorageUnavailable(StorageError),
    #[error("storage failure: {0}")]
    Storage(#[from] StorageError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A client-supplied value made safe to quote in a message: at most 64 characters, control
/// characters replaced, so that an error never carries a 10,000-character or binary payload.
pub fn echo(value: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = value
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if value.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}
