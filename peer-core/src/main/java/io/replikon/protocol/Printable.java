package io.replikon.protocol;

/**
 * Makes a string that another peer (or any client) supplied safe to log: control characters
 * (newlines, escapes, C1 controls, line and paragraph separators) are shown as {@code \}{@code
 * uXXXX}, and the result is cut to a bound with a note of how much was left out. So a forged
 * newline cannot start a log line of its own, and a 15 MiB peer name costs a log line of a few
 * hundred bytes.
 *
 * <p>Thread-safe (stateless). Never throws; a {@code null} is shown as {@code null}.
 */
public final class Printable {
  /** The default bound for a peer-supplied name or message in a log line, in characters. */
  public static final int DEFAULT_MAX = 200;

  private Printable() {}

  /** Returns {@code text} made printable and cut to {@link #DEFAULT_MAX} characters. */
  public static String of(String text) {
    return of(text, DEFAULT_MAX);
  }

  /**
   * Returns {@code text} with every control character escaped, cut to at most {@code max}
   * characters of the original (an escaped character counts as one) and followed, when cut, by
   * {@code "...(N more chars)"}.
   *
   * @throws IllegalArgumentException if {@code max} is negative
   */
  public static String of(String text, int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max must not be negative: " + max);
    }
    if (text == null) {
      return "null";
    }
    int n = Math.min(text.length(), max);
    if (n > 0 && n < text.length() && Character.isHighSurrogate(text.charAt(n - 1))) {
      n--; // never cut a surrogate pair in half
    }
    StringBuilder out = null;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (unsafe(c)) {
        if (out == null) {
          out = new StringBuilder(n + 16).append(text, 0, i);
        }
        out.append(String.format("\\u%04x", (int) c));
      } else if (out != null) {
        out.append(c);
      }
    }
    String kept = out != null ? out.toString() : text.substring(0, n);
    return n < text.length() ? kept + "...(" + (text.length() - n) + " more chars)" : kept;
  }

  private static boolean unsafe(char c) {
    return Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
        || c == '\u202e' || c == '\u202d' || c == '\u2066' || c == '\u2067' || c == '\u2068'
        || c == '\u2069';
  }
}
