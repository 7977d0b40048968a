/* bench_e2ee.h - the encrypted private-message scenario (issue 10): K pairs of users send to
 * each other, first as plaintext (the baseline, before any device exists: once a user has a
 * device list pierd refuses plaintext private sends to them), then end-to-end encrypted with
 * libpier's core (src/lib/e2ee/e2ee.h), through the same engine, window and time.
 *
 * Encrypted setup, per user: one device (pier_e2ee_device_create and one-time prekeys),
 * device_register with the proof over the login challenge, a first list signed with a fresh
 * account key, `keys` for the partner (the bundle's list verified, the partner's device taken
 * from it), and a first message each way so that both sides hold the session before the
 * measurement (the even user of a pair starts it).
 *
 * A message is the payload {"v":1,"type":"message","peer":..,"text":"b <idx> <seq> <t_ns>"}
 * sealed once (pier_e2ee_payload_seal), its inner encrypted for the partner's device
 * (pier_e2ee_encrypt) and sent as `send` with `e2ee`. The receiver opens each `envelope`
 * (pier_e2ee_decrypt, pier_e2ee_payload_open), checks it like bench_traffic.h checks a msg
 * (from, device, to, peer, per-pair order, no loss, no duplicate, one id per message) and
 * acknowledges its queue every BE2EE_ACK_EVERY envelopes and at the end. Any failure to
 * decrypt or verify fails the scenario.
 *
 * Then two plaintext phases on K other pairs (logged in with the first, never given a device),
 * through the same engine, window and checks, to compare like with like: at saturation the
 * encrypted rate is bounded by the bench's own crypto, and pierd's CPU per message depends on
 * the rate and on the bursts in which sends arrive (how many share a loop wake-up, a group
 * commit, an fdatasync). "Evenly paced": plaintext sent at the encrypted phase's delivered
 * rate by a 250 us timer. "Same client": plaintext with the bench burning, per send and per
 * message received, the thread CPU the encrypted phase spent on crypto and the rest of its
 * extra client work, so that it runs at the encrypted rate for the encrypted phase's reason,
 * in the same bursts, when the machine gives it the encrypted phase's rate (its rate against
 * that one is printed; a busy machine does not). Issue 13's target (the encrypted path within
 * 1.5x) stays on the saturation ratio; the ratios to the same-client and the evenly paced
 * phases are printed beside it (bench_e2ee.c, ratio_metrics, says why).
 *
 * Figures: delivered msg/s, server CPU per message (and % core), latency, bench CPU of every
 * phase; bytes on the wire per message of the first two; the clients' CPU per encrypt and per
 * decrypt (CLOCK_THREAD_CPUTIME_ID around the crypto calls only); the paced phase's rate asked
 * and sends held back; the CPU burnt per send and receipt and the achieved rate against the
 * encrypted one of the same-client phase.
 */
#ifndef BENCH_E2EE_H
#define BENCH_E2EE_H

#include <stddef.h>

#include "bench_report.h"
#include "bench_scenarios.h"

#define BE2EE_ACK_EVERY  32      /* envelopes a receiver takes before it says ack */

/* Runs the scenario with pairs pairs (2 * pairs users) and adds its entry to rep. */
void bscen_e2ee(const struct bconfig *cfg, struct breport *rep, size_t pairs);

#endif
