module ecsrender.bench/floor

go 1.26.8
