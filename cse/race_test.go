//go:build race

package cse

const raceEnabled = true
