-- wrk script: sign in through the JSON API with the right password (HTTP login throughput).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"loginbench","password":"quiet lantern orbits the harbor"}'
