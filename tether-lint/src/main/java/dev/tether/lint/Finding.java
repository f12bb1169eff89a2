package dev.tether.lint;

/**
 * One diagnostic from a Tether check, located by a path relative to the analysis root.
 *
 * @param fingerprint stable across unrelated edits: rule, path, the flagged line's text and its occurrence number
 *                    among identical lines, but not the line number
 */
record Finding(String ruleId, String path, long line, long column, String message, String fingerprint) {}
