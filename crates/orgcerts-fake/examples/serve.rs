//! Runs the fake on its own, to try the command line by hand:
//! `cargo run -p orgcerts-fake --example serve`, then export what it prints.

fn main() {
    let server = orgcerts_fake::FakeServer::start();
    println!("export OPENAI_BASE_URL={}", server.base_url());
    println!("export OPENAI_ADMIN_KEY={}", server.admin_key());
    loop {
        std::thread::park();
    }
}
