module github.com/mcqq/bridge

go 1.26.0

require (
	github.com/VictoriaMetrics/metrics v1.35.1
	github.com/caarlos0/env/v11 v11.4.2
	github.com/gorcon/rcon v1.4.0
	github.com/gorilla/websocket v1.5.3
	github.com/joho/godotenv v1.5.1
	github.com/lmittmann/tint v1.2.1
	go.uber.org/goleak v1.3.0
	golang.org/x/time v0.16.0
)

require (
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	golang.org/x/sys v0.15.0 // indirect
)
