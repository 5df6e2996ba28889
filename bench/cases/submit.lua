-- submit.lua - wrk script: every request applies for the old-age allowance
-- over the API with one resident's token (TOKEN in the environment), and
-- counts the answers by status per thread, so run.sh can compare what was
-- acknowledged (201) with what the store holds afterwards.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  created, other = 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  wrk.body = '{"item":"990100-MZ-004","answers":{"method":"social_card"}}'
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format("acknowledged %d other %d\n", c, o))
end
