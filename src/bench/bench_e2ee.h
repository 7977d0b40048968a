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
 * Figures for both phases: delivered msg/s at saturation, server CPU per message (and %
 * core), ack and delivery latency, bench CPU, bytes on the wire per message; encrypted also:
 * the clients' CPU per encrypt and per decrypt (CLOCK_THREAD_CPUTIME_ID around the crypto
 * calls only) and the ratio of server CPU per encrypted to per plaintext message.
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
