#!/usr/bin/env python3
"""Writes a copy of the shared mock (../shared/bench/mockllm) that also speaks HTTP/2 (h2c,
prior knowledge) for bench/scale.sh's S-concurrent-h2: usage `mockllm_h2.py SRC DST`.

The copy differs from the mock in three places, each checked (the script fails when the mock's
sources no longer have what it replaces):
  - the package is named `mockllm-h2` (its binary does not replace the shared `mockllm` in a
    shared target directory);
  - axum gets its `http2` feature, and hyper-util is a direct dependency;
  - `axum::serve(listener, app)` becomes hyper-util's auto (HTTP/1.1 and h2c) connection
    builder with HTTP/2's limit on concurrent streams per connection raised from hyper's
    default, 200, to MAX_STREAMS: with the default a client multiplexing its requests on one
    connection (as reqwest does over HTTP/2) could never have more than 200 open at the mock.
The handlers, the models and the counters (`/stats`' `max_in_flight`) are the mock's own.
"""
import pathlib
import shutil
import sys

MAX_STREAMS = 100_000

src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
if dst.exists():
    shutil.rmtree(dst)
shutil.copytree(src, dst, ignore=shutil.ignore_patterns("target"))


def replace(path, old, new):
    text = path.read_text()
    if text.count(old) != 1:
        sys.exit(f"mockllm_h2.py: {path} does not contain exactly one {old!r}")
    path.write_text(text.replace(old, new))


manifest = dst / "Cargo.toml"
replace(manifest, 'name = "mockllm"', 'name = "mockllm-h2"')
replace(manifest, 'features = ["http1", "tokio", "json"]', 'features = ["http1", "http2", "tokio", "json"]')
replace(
    manifest,
    "[dependencies]\n",
    '[dependencies]\nhyper-util = { version = "0.1", features = ["server-auto", "service", "tokio"] }\n',
)
replace(
    dst / "src/main.rs",
    "        axum::serve(listener, app).await.unwrap();\n",
    f"""        // mockllm-h2 (bench/scale/mockllm_h2.py): HTTP/1.1 and h2c on every connection, up to
        // {MAX_STREAMS} HTTP/2 streams on one.
        let mut listener = listener;
        let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        builder.http2().max_concurrent_streams({MAX_STREAMS});
        loop {{
            let (io, _peer) = axum::serve::Listener::accept(&mut listener).await;
            let service = hyper_util::service::TowerToHyperService::new(app.clone());
            let builder = builder.clone();
            tokio::spawn(async move {{
                let _ = builder.serve_connection(hyper_util::rt::TokioIo::new(io), service).await;
            }});
        }}
""",
)
