//! A load generator for `flowc serve` (benches/README.md, "The service"): CLIENTS threads, each
//! creating an expense claim and submitting it, again and again, for SECONDS; every answered
//! call is one durable action (one committed transaction). Prints actions/s and p50/p99.
//!
//!     cargo run --release -p flowc-serve --example load -- TOKEN SECONDS CLIENTS ADDRESS [ADDRESS…]
//!
//! With several addresses (servers on one database) the clients are spread over them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [token, seconds, clients, addresses @ ..] = arguments.as_slice() else {
        eprintln!("usage: load TOKEN SECONDS CLIENTS ADDRESS [ADDRESS…]");
        std::process::exit(2);
    };
    let seconds: u64 = seconds.parse().unwrap_or(10);
    let clients: usize = clients.parse().unwrap_or(32);
    let claim = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/expense/request.json"))
        .unwrap_or_default()
        .replace("\"creator\": \"E0123\",", "");
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let address = addresses.get(client % addresses.len().max(1)).cloned().unwrap_or_default();
            let token = token.clone();
            let claim = claim.clone();
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                let Ok(stream) = TcpStream::connect(&address) else { return (latencies, 1) };
                let _ = stream.set_nodelay(true);
                let Ok(read_half) = stream.try_clone() else { return (latencies, 1) };
                let mut reader = BufReader::new(read_half);
                let mut writer = stream;
                while Instant::now() < until {
                    let begun = Instant::now();
                    let (status, body) = call(&mut writer, &mut reader, &address, &token, "/requests", &claim);
                    if status != 201 {
                        errors += 1;
                        continue;
                    }
                    latencies.push(begun.elapsed());
                    let id = body
                        .split("\"id\": ")
                        .nth(1)
                        .and_then(|rest| rest.split([',', '\n']).next())
                        .unwrap_or("0")
                        .trim()
                        .to_owned();
                    let begun = Instant::now();
                    let (status, _) = call(
                        &mut writer,
                        &mut reader,
                        &address,
                        &token,
                        &format!("/requests/{id}/actions"),
                        r#"{"do":"submit"}"#,
                    );
                    if status == 200 {
                        latencies.push(begun.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for thread in threads {
        if let Ok((mut some, failed)) = thread.join() {
            latencies.append(&mut some);
            errors += failed;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |percent: usize| {
        let rank = (percent * latencies.len()).div_ceil(100).max(1);
        latencies.get(rank - 1).map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
    };
    println!(
        "{} durable actions in {elapsed:.1} s: {:.0} actions/s, p50 {:.1} ms, p99 {:.1} ms, {errors} errors",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(50),
        percentile(99)
    );
}

/// One keep-alive HTTP/1.1 POST; the status and the body (read by Content-Length).
fn call(
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    address: &str,
    token: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if writer.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return (0, String::new());
    }
    let status = line.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    (status, String::from_utf8_lossy(&body).into_owned())
}
