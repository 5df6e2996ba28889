-- soak.lua - wrk script for the soak: one request in five applies for the
-- old-age allowance over the API (a write: the case, its history, the
-- applicant's message), the others read pages and the API in turn. The
-- residents' tokens come from TOKENS (comma-separated); each thread counts
-- acknowledged writes (201) and errors (any 4xx or 5xx) for run.sh, which
-- compares the acknowledged writes with what the store holds afterwards.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local reads = {
  "/", "/healthz", "/services", "/services/990100-MZ-001",
  "/services?q=%E7%A4%BE%E4%BF%9D", "/api/v1/services", "/ratings",
  "/api/v1/services/990100-MZ-004", "/api/v1/me", "/help",
}

function init(args)
  acked, errors, n = 0, 0, 0
  tokens = {}
  for t in string.gmatch(os.getenv("TOKENS") or "", "[^,]+") do
    table.insert(tokens, t)
  end
  write_body = '{"item":"990100-MZ-004","answers":{"method":"social_card"}}'
end

function request()
  n = n + 1
  local token = tokens[(n % #tokens) + 1]
  local auth = { ["Authorization"] = "Bearer " .. token }
  if n % 5 == 0 then
    auth["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/v1/applications", auth, write_body)
  end
  local path = reads[(n % #reads) + 1]
  if string.sub(path, 1, 8) == "/api/v1/" then
    return wrk.format("GET", path, auth, nil)
  end
  return wrk.format("GET", path, nil, nil)
end

function response(status, headers, body)
  if status == 201 then
    acked = acked + 1
  elseif status >= 400 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local a, e = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acked")
    e = e + t:get("errors")
  end
  io.write(string.format("acknowledged %d errors %d\n", a, e))
end
