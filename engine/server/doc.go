// Package server assembles one paycode node: the journal (recovered
// before the lane listener opens), the engine and its follow-up loop,
// identification, the wallet connectors, the notifier, request signing,
// the lane listener, the admin listener (health, metrics, status page,
// reload, wallets), and the order in which they stop.
//
// It is what `paycode serve` runs, what the load tool's embedded mode and
// the demo run, and what end-to-end tests and benchmarks start, so every
// one of them exercises the production assembly. Start takes a Config of
// production settings; behaviour only tests want (a follow-up loop left
// stopped for a manual clock) is an Option, never a setting.
//
// Wallets are given by URL. Simulated wallets are not built here: a
// caller that wants them (loadtest/stack, `paycode serve` in sim mode)
// starts them and passes their URLs with WalletConfig.Simulated set, so
// the admin listener reports them as simulated.
//
// This package must not import loadtest, bench or cmd.
//
// It is the one package that imports every layer under engine/ (and
// decode); nothing under engine/ imports it, and it imports no tool
// (loadtest, bench, cmd): simulated wallets are plugged in from outside
// (loadtest/stack). engine/server's TestLayers enforces these import
// rules for the whole module.
package server
