module github.com/culprit-dev/culprit

go 1.24
