package io.replikon.cli;

import io.replikon.error.ReplikonException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code replikon} command, entry point of the distribution ({@code ./replikon} runs it).
 *
 * <p>Subcommands are registered in one place, {@link #commandLine(Io)}. Every command writes its
 * output on stdout and nothing else there; messages and logs go to stderr. A failure prints one
 * line, {@code replikon: <message>}, and exits non-zero; the stack trace only shows at log level
 * debug.
 */
@Command(
    name = "replikon",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    synopsisSubcommandLabel = "COMMAND",
    header = "replikon: a CRDT replication peer for the JVM.",
    description = {
      "Peers replicate CDVCS commit graphs (a distributed version control system for data) "
          + "over WebSockets and keep them in an embedded RocksDB store.",
      "",
      "It runs server peers, collects events (JSON lines, HTTP, Jetstream, Twitter) into a "
          + "CDVCS, streams a CDVCS into SQLite, PostgreSQL or JSON lines, and offers the value "
          + "and store tools below. Start with 'replikon demo'."
    },
    commandListHeading = "%nCommands:%n",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:Success.",
      "1:The command failed (see its own help).",
      "2:Invalid command line."
    })
public final class Main implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  /** The environment variable that sets the log level when {@code --log-level} is not given. */
  static final String LOG_LEVEL_VARIABLE = "REPLIKON_LOG_LEVEL";

  @Spec private CommandSpec spec;

  private Main() {}

  /**
   * Sets the log level, over {@code REPLIKON_LOG_LEVEL}. Inherited by every subcommand, so that it
   * may come before or after the command name.
   */
  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      scope = ScopeType.INHERIT,
      converter = LogLevel.Converter.class,
      description = {
        "Log level on stderr: error, warn, info, debug or trace (default: info, or "
            + "$REPLIKON_LOG_LEVEL when set). At debug, failures also print their stack trace."
      })
  void setLogLevel(LogLevel level) {
    level.apply();
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing command");
  }

  /**
   * Runs the {@code replikon} command and exits the JVM with its exit code.
   *
   * @param args the command-line arguments
   */
  public static void main(String[] args) {
    // Command output goes to the file descriptor directly, not through System.out, so that a
    // failed write (a closed pipe, a full disk) is an IOException rather than a silent flag.
    OutputStream out = new FileOutputStream(FileDescriptor.out);
    PrintStream err =
        new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
    System.exit(run(args, new Io(System.in, out, err), System.getenv(LOG_LEVEL_VARIABLE)));
  }

  /**
   * Runs the {@code replikon} command on the given streams and returns its exit code.
   *
   * @param logLevel the value of {@code REPLIKON_LOG_LEVEL}, or null when it is not set
   */
  static int run(String[] args, Io io, String logLevel) {
    defaultLogLevel(logLevel, io.err()).apply();
    CommandLine commandLine = commandLine(io);
    try {
      return commandLine.execute(args);
    } finally {
      commandLine.getOut().flush();
      commandLine.getErr().flush();
    }
  }

  /** Returns the {@code replikon} command line, with all its subcommands, on {@code io}. */
  static CommandLine commandLine(Io io) {
    CommandLine commandLine = new CommandLine(new Main());
    // The one list of subcommands. Add a command here once it works, not before.
    commandLine.addSubcommand(new DemoCommand(io));
    commandLine.addSubcommand(new PeerCommand());
    commandLine.addSubcommand(new CollectCommand());
    commandLine.addSubcommand(new StreamCommand());
    commandLine.addSubcommand(new HashCommand(io));
    commandLine.addSubcommand(new LogCommand(io));
    commandLine.addSubcommand(new TransactCommand(io, Clock.systemUTC()));
    commandLine.addSubcommand(new KeygenCommand(io));

    // Settings below apply to the subcommands added above.
    commandLine.setOut(
        new PrintWriter(new OutputStreamWriter(io.out(), StandardCharsets.UTF_8), false));
    commandLine.setErr(new PrintWriter(io.err(), true));
    commandLine.setParameterExceptionHandler(
        (ex, args) -> {
          CommandSpec failed = ex.getCommandLine().getCommandSpec();
          String message = oneLine(ex.getMessage());
          if (ex instanceof UnmatchedArgumentException unmatched
              && !unmatched.getSuggestions().isEmpty()) {
            message += "; did you mean '" + unmatched.getSuggestions().get(0) + "'?";
          }
          io.err()
              .println("replikon: " + message + " (see '" + failed.qualifiedName() + " --help')");
          return failed.exitCodeOnInvalidInput();
        });
    commandLine.setExecutionExceptionHandler(
        (ex, failed, parseResult) -> {
          report(io.err(), ex);
          return failed.getCommandSpec().exitCodeOnExecutionException();
        });
    return commandLine;
  }

  /**
   * Returns the log level named by {@code REPLIKON_LOG_LEVEL}, or info. A bad value is reported
   * but does not stop the command: it should not make even {@code --help} fail.
   */
  private static LogLevel defaultLogLevel(String value, PrintStream err) {
    if (value == null || value.isBlank()) {
      return LogLevel.INFO;
    }
    try {
      return new LogLevel.Converter().convert(value);
    } catch (TypeConversionException e) {
      err.println("replikon: ignoring " + LOG_LEVEL_VARIABLE + ": " + e.getMessage());
      return LogLevel.INFO;
    }
  }

  /** Prints a failure as one line on {@code err}, with the stack trace at log level debug. */
  private static void report(PrintStream err, Exception ex) {
    boolean expected =
        ex instanceof ReplikonException
            || ex instanceof IOException
            || ex instanceof UncheckedIOException;
    String message = ex.getMessage() == null ? ex.getClass().getName() : oneLine(ex.getMessage());
    if (LOG.isDebugEnabled()) {
      err.println("replikon: " + message);
      ex.printStackTrace(err);
    } else if (expected) {
      err.println("replikon: " + message);
    } else {
      err.println(
          "replikon: internal error: "
              + message
              + " ("
              + ex.getClass().getName()
              + "; --log-level=debug shows the stack trace)");
    }
  }

  /** Returns {@code text} with each line break and the spaces around it made one space. */
  static String oneLine(String text) {
    return text.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /** Prints {@code replikon <version>} for {@code --version}. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {
        "replikon " + projectVersion(),
        "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name")
            + ")"
      };
    }
  }

  /** Returns the Maven project version that this build of the command was made from. */
  static String projectVersion() {
    try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        throw new IllegalStateException("version.properties is missing from the class path");
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read version.properties", e);
    }
  }
}
