module github.com/culprit-dev/culprit/bench/gonx

go 1.24

require github.com/satyrius/gonx v1.3.1-0.20181123214749-d96bd26e3b2c

require github.com/smartystreets/goconvey v1.8.1 // indirect
