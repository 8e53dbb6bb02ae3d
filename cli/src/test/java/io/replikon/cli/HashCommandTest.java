package io.replikon.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HashCommandTest {
  private static final String ERROR_PREFIX = "replikon hash: line ";

  /** The line that replikon hash must print for a value whose canonical encoding is given. */
  private static String line(String cborHex) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(HexFormat.of().parseHex(cborHex));
      return cborHex + " " + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static List<String> lines(String text) {
    return text.lines().toList();
  }

  @Test
  void printsTheCanonicalEncodingAndItsSha256() {
    Cli.Result result = Cli.run("1.5\n{\"b\":1,\"aa\":2}\n", "hash");

    assertThat(result.out())
        .isEqualTo(
            "f93e00 b68bb45ecab0329ab815daf44f5a02d2a11a8ab87fbbdf4b08bcae00cada0324\n"
                + "a261620162616102 "
                + "e1017d5e192477fd15f9a222a2dc757609b092ff23b699fb7ff79259bbd50627\n");
    assertThat(result.err()).isEmpty();
    assertThat(result.exitCode()).isZero();
  }

  @Test
  void sortsMapKeysByTheirEncodingNotAlphabetically() {
    // "b" encodes shorter than "aa", so it comes first, whatever the input order.
    Cli.Result result = Cli.run("{\"aa\":2,\"b\":1}\n{\"b\":1,\"aa\":2}\n", "hash");

    assertThat(lines(result.out()))
        .containsExactly(line("a261620162616102"), line("a261620162616102"));
  }

  /** RFC 8949 Appendix A examples that JSON can express, through the command's JSON parsing. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          0                       | 00
          23                      | 17
          24                      | 1818
          1000000                 | 1a000f4240
          1000000000000           | 1b000000e8d4a51000
          18446744073709551615    | 1bffffffffffffffff
          18446744073709551616    | c249010000000000000000
          -18446744073709551616   | 3bffffffffffffffff
          -18446744073709551617   | c349010000000000000000
          -1000                   | 3903e7
          0.0                     | f90000
          -0.0                    | f98000
          1.0                     | f93c00
          1.1                     | fb3ff199999999999a
          65504.0                 | f97bff
          100000.0                | fa47c35000
          3.4028234663852886e+38  | fa7f7fffff
          1.0e+300                | fb7e37e43c8800759c
          5.960464477539063e-8    | f90001
          -4.1                    | fbc010666666666666
          false                   | f4
          true                    | f5
          null                    | f6
          ""                      | 60
          "IETF"                  | 6449455446
          "\\"\\\\"               | 62225c
          "\\u00fc"               | 62c3bc
          "\\u6c34"               | 63e6b0b4
          "\\ud800\\udd51"        | 64f0908591
          []                      | 80
          [1,[2,3],[4,5]]         | 8301820203820405
          {}                      | a0
          {"a":1,"b":[2,3]}       | a26161016162820203
          ["a",{"b":"c"}]         | 826161a161626163
          """)
  void encodesRfc8949Examples(String json, String cborHex) {
    Cli.Result result = Cli.run(json + "\n", "hash");

    assertThat(result.err()).isEmpty();
    assertThat(result.out()).isEqualTo(line(cborHex) + "\n");
  }

  @Test
  void keepsNonAsciiTextFromUtf8Input() {
    assertThat(Cli.run("\"ü水\"\n", "hash").out()).isEqualTo(line("65c3bce6b0b4") + "\n");
  }

  @Test
  void reportsABadLineByNumberAndGoesOn() {
    Cli.Result result = Cli.run("1\n{bad\n2\n", "hash");

    assertThat(lines(result.out())).containsExactly(line("01"), line("02"));
    assertThat(lines(result.err())).singleElement().asString().startsWith(ERROR_PREFIX + "2: ");
    assertThat(result.exitCode()).isEqualTo(1);
  }

  @Test
  void rejectsASecondValueOrGarbageAfterTheFirst() {
    Cli.Result result = Cli.run("1 2\n{} x\n[1]]\n\"a\"\"b\"\n3\n", "hash");

    assertThat(lines(result.out())).containsExactly(line("03"));
    assertThat(lines(result.err()))
        .satisfiesExactly(
            l -> assertThat(l).startsWith(ERROR_PREFIX + "1: invalid JSON: trailing content")
                .endsWith("(column 3)"),
            l -> assertThat(l).startsWith(ERROR_PREFIX + "2: "),
            l -> assertThat(l).startsWith(ERROR_PREFIX + "3: "),
            l -> assertThat(l).startsWith(ERROR_PREFIX + "4: invalid JSON: trailing content"));
    assertThat(result.exitCode()).isEqualTo(1);
  }

  @Test
  void rejectsAKeyTwiceInAnObject() {
    Cli.Result result = Cli.run("{\"a\":1,\"a\":2}\n", "hash");

    assertThat(result.out()).isEmpty();
    assertThat(result.err()).startsWith(ERROR_PREFIX + "1: ").contains("duplicate key \"a\"");
    assertThat(result.exitCode()).isEqualTo(1);
  }

  @Test
  void rejectsNumbersThatOverflowAFloat() {
    Cli.Result result = Cli.run("1e400\n[1, -1e400]\n1e308\n", "hash");

    assertThat(lines(result.out())).containsExactly(line("fb7fe1ccf385ebc8a0"));
    assertThat(lines(result.err()))
        .satisfiesExactly(
            l -> assertThat(l).startsWith(ERROR_PREFIX + "1: invalid JSON: the number 1e400 is "
                + "not a finite 64-bit float").endsWith("(column 1)"),
            l -> assertThat(l).startsWith(ERROR_PREFIX + "2: invalid JSON: the number -1e400 is "
                + "not a finite 64-bit float").endsWith("(column 5)"));
  }

  @Test
  void rejectsInvalidUtf8() {
    byte[] input = {'"', (byte) 0xff, '"', '\n', '1', '\n'};

    Cli.Result result = Cli.run(new ByteArrayInputStream(input), "hash");

    assertThat(result.out()).isEqualTo(line("01") + "\n");
    assertThat(result.err()).startsWith(ERROR_PREFIX + "1: ").contains("UTF-8");
    assertThat(result.exitCode()).isEqualTo(1);
  }

  @Test
  void skipsBlankLinesButCountsThem() {
    Cli.Result result = Cli.run("\n  \t\n1\r\n\r\nnope\n\n", "hash");

    assertThat(result.out()).isEqualTo(line("01") + "\n");
    assertThat(result.err()).startsWith(ERROR_PREFIX + "5: ");
    assertThat(lines(result.err())).hasSize(1);
  }

  @Test
  void emptyInputPrintsNothingAndSucceeds() {
    Cli.Result result = Cli.run("", "hash");

    assertThat(result.out()).isEmpty();
    assertThat(result.err()).isEmpty();
    assertThat(result.exitCode()).isZero();
  }

  @Test
  void hashesALastLineWithoutNewline() {
    assertThat(Cli.run("1\n2", "hash").out()).isEqualTo(line("01") + "\n" + line("02") + "\n");
  }

  @Test
  void handlesLinesSplitAcrossReadsAndLongerThanTheBuffer() {
    String longText = "x".repeat(200_000);
    StringBuilder input = new StringBuilder();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 3_000; i++) {
      input.append(i).append('\n');
      expected.append(line(uint(i))).append('\n');
      if (i == 1_500) {
        input.append('"').append(longText).append("\"\n");
        expected.append(line("7a00030d40" + "78".repeat(longText.length()))).append('\n');
      }
    }
    byte[] bytes = input.toString().getBytes(UTF_8);

    // Reads of 7 bytes at most: lines start and end at every position of a read.
    Cli.Result trickled = Cli.run(new Trickle(bytes, 7), "hash");
    Cli.Result whole = Cli.run(new ByteArrayInputStream(bytes), "hash");

    assertThat(trickled.err()).isEmpty();
    assertThat(trickled.out()).isEqualTo(expected.toString());
    assertThat(whole.out()).isEqualTo(expected.toString());
  }

  private static OutputStream failing(String message) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        throw new IOException(message);
      }
    };
  }

  @Test
  void failsWhenStdoutFails() {
    OutputStream full = failing("No space left on device");

    Cli.Result result = Cli.run(new ByteArrayInputStream("1\n".getBytes(UTF_8)), full, "hash");

    assertThat(result.err())
        .isEqualTo("replikon: cannot write to stdout: No space left on device\n");
    assertThat(result.exitCode()).isEqualTo(1);
  }

  @Test
  void stopsQuietlyWhenStdoutIsClosed() {
    OutputStream closed = failing("Broken pipe");

    Cli.Result result = Cli.run(new ByteArrayInputStream("1\n".getBytes(UTF_8)), closed, "hash");

    assertThat(result.err()).isEmpty();
    assertThat(result.exitCode()).isEqualTo(141);
  }

  @Test
  void failsWhenStdinFails() {
    InputStream broken =
        new InputStream() {
          @Override
          public int read() throws IOException {
            throw new IOException("Input/output error");
          }
        };

    Cli.Result result = Cli.run(broken, new ByteArrayOutputStream(), "hash");

    assertThat(result.err()).isEqualTo("replikon: cannot read stdin: Input/output error\n");
    assertThat(result.exitCode()).isEqualTo(1);
  }

  /** The canonical encoding of a small unsigned integer, as hex. */
  private static String uint(int i) {
    if (i < 24) {
      return String.format("%02x", i);
    } else if (i < 256) {
      return String.format("18%02x", i);
    } else {
      return String.format("19%04x", i);
    }
  }

  /** Serves bytes in reads of at most {@code step} bytes. */
  private static final class Trickle extends InputStream {
    private final byte[] bytes;
    private final int step;
    private int pos;

    Trickle(byte[] bytes, int step) {
      this.bytes = bytes;
      this.step = step;
    }

    @Override
    public int read() {
      return pos < bytes.length ? bytes[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos == bytes.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, step), bytes.length - pos);
      System.arraycopy(bytes, pos, b, off, n);
      pos += n;
      return n;
    }

    @Override
    public int available() {
      return 0;
    }
  }
}
