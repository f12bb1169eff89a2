/**
 * Tether across gRPC: {@link dev.tether.grpc.TetherClientInterceptor} sends the caller's remaining budget as the
 * call's deadline, names who set it and cancels the call the moment the caller's context is done;
 * {@link dev.tether.grpc.TetherServerInterceptor} turns an incoming call into a Tether request context bound for the
 * handler, and keeps gRPC's own {@code io.grpc.Context} in step with it. The header names and value grammars are
 * those of {@code dev.tether.wire} (docs/wire.md).
 */
@NullMarked
package dev.tether.grpc;

import org.jspecify.annotations.NullMarked;
