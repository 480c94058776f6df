//! The benchmark's baseline: an actix-web route answering a fixed JSON body
//! of a given size, with the server's worker count. It measures what this
//! machine's stack can serve at best, so `cargo xtask bench` can report our
//! routes as ratios of it. Every path answers, so the benchmark can send it
//! the same scripted requests (paths, tokens) as our routes.
//!
//! Usage: `baseline ADDRESS BODY_BYTES`

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let size: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2048);
    // {"pad":"xxxx…"} padded to exactly `size` bytes.
    let body = web::Bytes::from(format!("{{\"pad\":\"{}\"}}", "x".repeat(size.saturating_sub(10))));
    println!("baseline listening on {address} with a {}-byte body", body.len());
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move { HttpResponse::Ok().content_type("application/json").body(body) }
        }))
    })
    .bind(address)?
    .run()
    .await
}
