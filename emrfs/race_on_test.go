//go:build race

package emrfs

// raceEnabled reports a -race build: heavy tests scale down.
const raceEnabled = true
