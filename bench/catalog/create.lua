-- create.lua - wrk script: a harvest published through CKAN's package_create.
-- Each wrk thread is one client (run with -t8 -c8): a department's staff
-- member with an API token, writing datasets of that department only, named
-- DEPT-h-THREAD-N, with three tags and two resources as a harvester sends
-- them. TOKENS is "token:dept token:dept ..." (one a thread). Answers are
-- counted by status, so create.sh can compare what was acknowledged with
-- what the store holds.
local threads = {}
local n_threads = 0

function setup(thread)
  local i = 0
  for pair in string.gmatch(os.getenv("TOKENS"), "%S+") do
    if i == n_threads then
      local tok, dept = string.match(pair, "([^:]+):(%S+)")
      thread:set("token", tok)
      thread:set("dept", dept)
      thread:set("tid", n_threads)
    end
    i = i + 1
  end
  n_threads = n_threads + 1
  table.insert(threads, thread)
end

function init(args)
  created, refused, other, sent = 0, 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = token
end

function request()
  sent = sent + 1
  local name = string.format("%s-h-%d-%d", dept, tid, sent)
  local body = string.format(
    '{"name":"%s","title":"采集数据集 %s 统计年报","owner_org":"%s",' ..
    '"notes":"由区域平台采集：%s 年度统计，按街道汇总。","license_id":"cc-by",' ..
    '"tags":[{"name":"统计"},{"name":"年报"},{"name":"h%d"}],' ..
    '"resources":[{"url":"https://data.example.gov.cn/%s.csv","format":"CSV","name":"数据表"},' ..
    '{"url":"https://data.example.gov.cn/%s.json","format":"JSON","name":"接口"}]}',
    name, name, dept, name, tid % 10, name, name)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then created = created + 1
  elseif status == 429 then refused = refused + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c, r, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    r = r + t:get("refused")
    o = o + t:get("other")
  end
  io.write(string.format("acknowledged %d refused %d other %d\n", c, r, o))
end
