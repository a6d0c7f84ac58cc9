//! The operations of a model-based run, and how proptest draws them.
//!
//! Certificates and projects are named by reference, resolved against the model when the step
//! runs (`Live(i)`: the i-th, modulo, of the acting organization's live certificates; `Own(i)`:
//! of all it ever had, deleted ones included), so that every sequence is meaningful and shrinks
//! well.

use proptest::prelude::*;

/// A certificate (or project) as a step names it.
#[derive(Debug, Clone, Copy)]
pub enum Ref {
    /// One of the acting organization's live ones (a project: any of its projects).
    Live(usize),
    /// One of the acting organization's, deleted ones included.
    Own(usize),
    /// One of the other organization's: never visible to the acting one.
    Other(usize),
    /// Well formed, never issued.
    Unknown,
    /// Not an id at all.
    Malformed,
}

/// What an upload sends as `certificate`.
#[derive(Debug, Clone, Copy)]
pub enum Upload {
    /// A certificate from the pool that no organization used yet in this run.
    Fresh,
    /// The PEM of a certificate already uploaded (by this organization or the other).
    Again(Ref),
    Invalid(Invalid),
}

/// PEM that must be refused.
#[derive(Debug, Clone, Copy)]
pub enum Invalid {
    Garbage,
    NotPem,
    Leaf,
    WithPrivateKey,
    /// Valid for less than 24 more hours.
    Expiring,
    /// More than 16 KiB.
    TooLarge,
}

#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Organization,
    Project(Ref),
}

#[derive(Debug, Clone)]
pub enum Limit {
    Valid(u32),
    Invalid(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub enum Order {
    Asc,
    Desc,
    Invalid,
}

/// One step, acted by organization `org` (0 or 1).
#[derive(Debug, Clone)]
pub enum Op {
    Upload {
        org: usize,
        pem: Upload,
        name: Option<String>,
    },
    Get {
        org: usize,
        cert: Ref,
        /// `include[]=content`, with raw (`true`) or percent-encoded brackets.
        content: Option<bool>,
    },
    Rename {
        org: usize,
        cert: Ref,
        name: Option<String>,
    },
    Delete {
        org: usize,
        cert: Ref,
    },
    Toggle {
        org: usize,
        scope: Scope,
        activate: bool,
        ids: Vec<Ref>,
    },
    CreateProject {
        org: usize,
        name: String,
    },
    ArchiveProject {
        org: usize,
        project: Ref,
    },
    List {
        org: usize,
        scope: Scope,
        limit: Option<Limit>,
        order: Option<Order>,
        after: Option<Ref>,
    },
    /// Every list of both organizations, walked page by page in both orders.
    CheckAll {
        limit: u32,
    },
}

fn org() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 2 => Just(1usize)]
}

/// Mostly the acting organization's own, which are few, so that steps meet each other.
fn reference() -> impl Strategy<Value = Ref> {
    prop_oneof![
        8 => (0..8usize).prop_map(Ref::Live),
        6 => (0..8usize).prop_map(Ref::Own),
        2 => (0..8usize).prop_map(Ref::Other),
        1 => Just(Ref::Unknown),
        1 => Just(Ref::Malformed),
    ]
}

/// Names around every rule: short, Unicode, exactly 256 wide characters, over 256, control
/// characters, empty, blank.
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z0-9 ._-]{1,16}",
        2 => "\\PC{1,8}",
        1 => Just("é".repeat(256)),
        1 => (257..270usize).prop_map(|n| "n".repeat(n)),
        1 => Just("🦀".repeat(257)),
        1 => Just("tab\there".to_owned()),
        1 => Just(String::new()),
        1 => Just("   ".to_owned()),
    ]
}

/// For activation sets: nearly always the organization's own, so that whole sets succeed.
fn member() -> impl Strategy<Value = Ref> {
    prop_oneof![
        40 => (0..8usize).prop_map(Ref::Live),
        4 => (0..8usize).prop_map(Ref::Own),
        1 => (0..8usize).prop_map(Ref::Other),
        1 => Just(Ref::Unknown),
        1 => Just(Ref::Malformed),
    ]
}

fn invalid() -> impl Strategy<Value = Invalid> {
    prop_oneof![
        Just(Invalid::Garbage),
        Just(Invalid::NotPem),
        Just(Invalid::Leaf),
        Just(Invalid::WithPrivateKey),
        Just(Invalid::Expiring),
        Just(Invalid::TooLarge),
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        3 => Just(Scope::Organization),
        6 => (0..3usize).prop_map(|i| Scope::Project(Ref::Own(i))),
        1 => reference().prop_map(Scope::Project),
    ]
}

fn limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        8 => (1..=6u32).prop_map(Limit::Valid),
        1 => prop_oneof![Just("0"), Just("101"), Just("abc"), Just("-1"), Just("2.5")]
            .prop_map(Limit::Invalid),
    ]
}

fn order() -> impl Strategy<Value = Order> {
    prop_oneof![
        4 => Just(Order::Asc),
        4 => Just(Order::Desc),
        1 => Just(Order::Invalid),
    ]
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (org(), proptest::option::weighted(0.8, name())).prop_map(|(org, name)| Op::Upload {
            org,
            pem: Upload::Fresh,
            name,
        }),
        2 => (org(), reference(), proptest::option::of(name())).prop_map(|(org, r, name)| {
            Op::Upload {
                org,
                pem: Upload::Again(r),
                name,
            }
        }),
        1 => (org(), invalid()).prop_map(|(org, kind)| Op::Upload {
            org,
            pem: Upload::Invalid(kind),
            name: None,
        }),
        3 => (org(), reference(), proptest::option::of(any::<bool>()))
            .prop_map(|(org, cert, content)| Op::Get { org, cert, content }),
        3 => (org(), reference(), proptest::option::weighted(0.85, name()))
            .prop_map(|(org, cert, name)| Op::Rename { org, cert, name }),
        4 => (org(), reference()).prop_map(|(org, cert)| Op::Delete { org, cert }),
        10 => (
            org(),
            scope(),
            any::<bool>(),
            prop_oneof![
                12 => proptest::collection::vec(member(), 1..=4),
                1 => Just(Vec::new()),
                // Over ten once duplicates are folded: unknown ids are all distinct.
                1 => proptest::collection::vec(
                    prop_oneof![(0..12usize).prop_map(Ref::Own), Just(Ref::Unknown)],
                    11..=13,
                ),
            ],
        )
            .prop_map(|(org, scope, activate, ids)| Op::Toggle {
                org,
                scope,
                activate,
                ids,
            }),
        4 => (org(), name()).prop_map(|(org, name)| Op::CreateProject { org, name }),
        2 => (org(), reference()).prop_map(|(org, project)| Op::ArchiveProject { org, project }),
        8 => (
            org(),
            scope(),
            proptest::option::weighted(0.8, limit()),
            proptest::option::weighted(0.8, order()),
            proptest::option::weighted(0.5, reference()),
        )
            .prop_map(|(org, scope, limit, order, after)| Op::List {
                org,
                scope,
                limit,
                order,
                after,
            }),
        1 => (1..=3u32).prop_map(|limit| Op::CheckAll { limit }),
    ]
}
