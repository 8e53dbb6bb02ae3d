package io.replikon.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * The standard streams a command works with: the process's own in {@link Main#main}, in-memory
 * ones in tests.
 *
 * @param in standard input
 * @param out standard output, for command output only; commands buffer it themselves
 * @param err standard error, for messages and logs
 */
record Io(InputStream in, OutputStream out, PrintStream err) {}
