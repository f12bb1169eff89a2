/**
 * OpenTelemetry for Tether.
 *
 * <ul>
 *   <li>{@link dev.tether.otel.OtelContextBridge}: the OpenTelemetry context current when a task is handed off
 *       ({@code wrap}, {@code run}, {@code call}, {@code ContextExecutors}, {@code TaskGroup} forks) is current
 *       while the task runs, and only then.</li>
 *   <li>{@link dev.tether.otel.TetherSpans}, {@link dev.tether.otel.SpanBinding} and
 *       {@link dev.tether.otel.TetherSpanProcessor}: a span whose context ends early records why, when, and whose
 *       deadline it was.</li>
 *   <li>{@link dev.tether.otel.TetherMetrics}: contexts ended early by type and deadline origin, the budget left
 *       at each hop, and how long a cancel took to reach the contexts below it.</li>
 * </ul>
 */
@NullMarked
package dev.tether.otel;

import org.jspecify.annotations.NullMarked;
