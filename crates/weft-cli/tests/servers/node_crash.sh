#!/bin/sh
# A stdio "MCP server" that dies the way Node does when its entry file is missing: a
# multi-line stack trace on stderr, then exit code 1, before answering `initialize`.
cat >&2 <<'TRACE'
node:internal/modules/cjs/loader:1228
  throw err;
  ^

Error: Cannot find module '/srv/mcp/dist/index.js'
    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)
    at Module._load (node:internal/modules/cjs/loader:1051:27)
    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:174:12)
    at node:internal/main/run_main_module:28:49 {
  code: 'MODULE_NOT_FOUND',
  requireStack: []
}

Node.js v20.11.1
TRACE
exit 1
