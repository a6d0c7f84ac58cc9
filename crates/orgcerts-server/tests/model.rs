//! Model-based testing: random sequences of every operation, acted by two organizations through
//! the HTTP API, each answer compared with an in-memory model of docs/contract.md (status, error
//! `param` and `code`, every field of every object), and every list of both organizations
//! walked in both orders now and then and at the end.
//!
//! One server for the whole test, two fresh organizations per case. `PROPTEST_CASES` (default
//! 64) sets the number of cases; a failure is shrunk and printed as the list of steps.

mod common;
#[path = "model/lists.rs"]
mod lists;
#[path = "model/ops.rs"]
mod ops;
#[path = "model/steps.rs"]
mod steps;
#[path = "model/world.rs"]
mod world;

use proptest::test_runner::{Config, TestCaseError, TestRunner};

use common::{Options, TestServer};
use world::{MAX_CERTIFICATES, Org, Pool, World};

/// Steps per case, at most.
const MAX_STEPS: usize = 60;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").map_or(64, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("PROPTEST_CASES={v}: expected a number"))
    });
    Config {
        cases,
        // Each shrink step replays a case over HTTP: bound the time, not only the count.
        max_shrink_iters: 2_000,
        max_shrink_time: 60_000,
        failure_persistence: None,
        ..Config::default()
    }
}

async fn new_org(server: &TestServer) -> Org {
    let (_, issued) = server
        .service
        .create_organization("Model organization", None)
        .await
        .expect("create organization");
    Org {
        key: issued.secret,
        certs: Vec::new(),
        projects: Vec::new(),
    }
}

async fn run_case(server: &TestServer, pool: &Pool, case: &[ops::Op]) -> Result<(), String> {
    let mut world = World {
        orgs: [new_org(server).await, new_org(server).await],
        next_fresh: 0,
    };
    // A project each to start with, so that project scopes mean something from the first step.
    let set_up = (0..2).map(|org| ops::Op::CreateProject {
        org,
        name: format!("project of organization {org}"),
    });
    for op in set_up {
        steps::step(server, pool, &mut world, &op)
            .await
            .map_err(|e| format!("set-up, {op:?}: {e}"))?;
    }
    for (n, op) in case.iter().enumerate() {
        steps::step(server, pool, &mut world, op)
            .await
            .map_err(|e| format!("step {n}, {op:?}: {e}"))?;
    }
    lists::check_all(server, &world, 2)
        .await
        .map_err(|e| format!("final check: {e}"))
}

#[test]
fn every_operation_from_two_organizations_answers_as_the_contract_model_says() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pool = Pool::mint(MAX_STEPS + 8);
    let mut server = rt.block_on(TestServer::start_with(Options {
        max_certificates_per_org: u32::try_from(MAX_CERTIFICATES).unwrap(),
        ..Options::default()
    }));
    let mut runner = TestRunner::new(config());
    let strategy = proptest::collection::vec(ops::op(), 1..=MAX_STEPS);
    let result = runner.run(&strategy, |case| {
        rt.block_on(run_case(&server, &pool, &case))
            .map_err(TestCaseError::fail)
    });
    rt.block_on(server.stop());
    if let Ok(answers) = steps::ANSWERS.lock() {
        for ((route, status), n) in answers.iter() {
            eprintln!("{n:6}  {status} {route}");
        }
    }
    if let Err(err) = result {
        panic!("{err}");
    }
}
