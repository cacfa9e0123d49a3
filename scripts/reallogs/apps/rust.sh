#!/usr/bin/env bash
# Builds a small Rust program with the machine's rustc (no crates) and
# captures what the Rust runtime prints into parser/testdata/app/ (Rust has no
# source kind of its own: its lines are generic "app" lines): a panic with and
# without RUST_BACKTRACE, an unwrap() of a refused connection (127.0.0.1:18381,
# nothing listening), main returning the io::Error of a refused connection and
# of a taken port (18382), and an allocation failure under ulimit -v.
source "$(dirname "$0")/lib.sh"
apps_init app rust
cat > "$work/main.rs" <<'RS'
use std::io::Read;
use std::net::{TcpListener, TcpStream};
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = std::env::args().nth(1).unwrap_or_default();
    match arg.as_str() {
        "panic" => { let v: Vec<u32> = Vec::new(); println!("{}", v[3]); }
        "unwrap" => { let mut s = TcpStream::connect("127.0.0.1:18381").unwrap(); let mut b = [0u8; 1]; let _ = s.read(&mut b); }
        "refused" => { eprintln!("connecting to cache at 127.0.0.1:18381"); TcpStream::connect("127.0.0.1:18381")?; }
        "bind" => { let _a = TcpListener::bind("127.0.0.1:18382")?; let _b = TcpListener::bind("127.0.0.1:18382")?; }
        "oom" => { let mut keep: Vec<Vec<u8>> = Vec::new(); loop { let mut v = Vec::with_capacity(256 << 20); v.resize(256 << 20, 1u8); keep.push(v); } }
        _ => {}
    }
    Ok(())
}
RS
rustc -O -o "$work/app" "$work/main.rs"
{
  RUST_BACKTRACE=0 "$work/app" panic || true
  RUST_BACKTRACE=1 "$work/app" panic || true
  RUST_BACKTRACE=1 "$work/app" unwrap || true
  "$work/app" refused || true
  "$work/app" bind || true
  bash -c "ulimit -v 1000000; RUST_BACKTRACE=1 exec $work/app oom" || true
} > "$out/rust.log" 2>&1
echo "$(rustc --version)" > "$out/VERSION-rust"
