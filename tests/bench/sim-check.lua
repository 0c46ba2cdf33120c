-- wrk script: one check request per call against numtrust-platform-sim.
-- SIM_DIALECT=b (default): dialect B POST /p/tencent/b/api/v2/query with a
-- bearer token; SIM_DIALECT=c: dialect C batch query with one number.
-- The number varies per request so the model does real work.
local dialect = os.getenv("SIM_DIALECT") or "b"
local counter = 0

request = function()
    counter = counter + 1
    local n = 8613800000000 + (counter % 1000000)
    if dialect == "c" then
        return wrk.format("POST", "/p/aggregator/c/batch/query",
            {["Content-Type"] = "application/json"},
            string.format('{"numbers":["+%d"]}', n))
    end
    return wrk.format("POST", "/p/tencent/b/api/v2/query",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer sim-token"},
        string.format('{"phone":"%d"}', n))
end
