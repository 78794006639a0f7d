// Package load is paycode's open-loop load tool, the library behind
// `paycode load` and `paycode demo`.
//
// It owns:
//
//   - the scenario format (Scenario: lanes, stages with their rates, the
//     mix of wallets and test-code outcomes, follow-up traffic, invalid
//     codes and replays, worker and connection caps), parsed from YAML and
//     validated with errors that name the field;
//   - a vegeta Pacer for the stages (constant or linear per stage) and a
//     Targeter that mints a fresh single-use payment code and
//     paymentRequestId per pay, and schedules the lanes' follow-ups
//     (polling inquiryPayment on U, cancels, refunds, replays);
//   - the Recorder: HDR histograms per request kind and per outcome, of
//     the total latency and of paycode's own time (the paycode-engine-us
//     response header), the live line, and the Summary (text and JSON);
//   - budgets (`pay.p99<=50ms,pay.success>=99.9%`) and their evaluation;
//   - the correctness check: paycode's view of every payment of the run
//     against the simulated wallets' ledgers (lost, duplicated, wrong
//     amount, wrong state, unsettled, orphan charges);
//   - Sender, which paces the hits and sends them over fasthttp, making
//     vegeta.Results on its workers' goroutines (vegeta's Attacker
//     remains as an option, to compare);
//   - Run, which wires all of it and writes the outputs: vegeta binary
//     results, summary.json and report.html.
//
// # Guarantees
//
// The load is open loop: requests leave at the pacer's schedule whatever
// the answers do, so a slow server shows up as latency rather than as a
// lower request rate (no coordinated omission). A run whose achieved rate
// is under MinAchievedRatio of the requested one fails, because past that
// point the generator, not the server, set the schedule.
//
// Everything random (codes, outcomes, amounts, which payments get
// follow-ups) comes from the scenario's seed: the same seed mints the same
// payments in the same order. What depends on time (when a follow-up falls
// due) is driven by an injectable clock in tests.
//
// The tool never logs a whole payment code: codes exist only in request
// bodies.
package load
