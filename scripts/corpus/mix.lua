-- wrk request mix for the benchmark corpus (scripts/corpus/gen.sh): mostly
-- successful proxied requests, static files and 404s, plus requests to every
-- failing upstream of nginx.sh, with browser-like agents and referers so the
-- lines have realistic lengths (about 300 bytes in the ext format).
local mix = {
  {46, "/ok/"}, {10, "/static/page.html"}, {12, "/missing/"}, {3, "/ok/missing/"},
  {5, "/refused/"}, {1, "/slow/"}, {4, "/closing/"}, {6, "/mixed/"}, {2, "/fallback/"},
  {2, "/nolive/"}, {2, "/limited/"}, {1, "/sock/"}, {1, "/ok/app502"}, {1, "/ok/app503"},
}
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
  "curl/7.88.1",
  "Go-http-client/1.1",
  "Prometheus/2.48.0",
}
local referers = {
  "-", "https://shop.example.com/", "https://shop.example.com/cart?step=2",
  "https://www.google.com/", "https://shop.example.com/search?q=running+shoes&sort=price",
}
local total = 0
for _, m in ipairs(mix) do total = total + m[1] end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

request = function()
  local r, path = math.random(total), mix[1][2]
  for _, m in ipairs(mix) do
    if r <= m[1] then path = m[2]; break end
    r = r - m[1]
  end
  if path:sub(-1) == "/" then
    path = path .. "item/" .. math.random(1, 100000) .. "?session=" ..
      string.format("%08x", math.random(0, 0x7fffffff)) .. "&page=" .. math.random(1, 50)
  end
  local headers = { ["User-Agent"] = agents[math.random(#agents)] }
  local ref = referers[math.random(#referers)]
  if ref ~= "-" then headers["Referer"] = ref end
  return wrk.format("GET", path, headers)
end
