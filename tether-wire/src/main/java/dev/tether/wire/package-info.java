/**
 * Tether's wire protocol (docs/wire.md): the headers that carry a request's remaining budget, who set its deadline
 * and why it ended early, from one service to the next.
 *
 * <p>{@link dev.tether.wire.GrpcTimeout}, {@link dev.tether.wire.DeadlineOrigin} and
 * {@link dev.tether.wire.EndedEarly} encode and decode single header values and reject whatever does not match the
 * grammar. {@link dev.tether.wire.InboundBudget} is a server's policy for turning whatever a peer sent into the
 * budget its handler gets (the server's own maximum always caps it); {@link dev.tether.wire.OutboundBudget} is a
 * client's policy for what to send on from the caller's context. Transport integrations (HTTP servers and clients,
 * gRPC) build on these and share their rules.
 */
@NullMarked
package dev.tether.wire;

import org.jspecify.annotations.NullMarked;
