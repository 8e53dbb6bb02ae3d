package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code replikon demo} on the first 400 bundled sample tweets, its parts as child JVMs. */
class DemoCommandIT {
  private static final Pattern ACCOUNT = Pattern.compile("^\\s+@(\\S+)\\s+([\\d,]+) tweets$");

  @TempDir Path dir;

  /** What the demo should print, computed from the sample without the pipeline. */
  record Figures(long tweets, long matches, List<String> topAccounts) {}

  /**
   * Counts distinct statuses, those whose most complete text has {@code word} as a token (FTS5's
   * unicode61 tokenizer: letters and digits make tokens, case folded) and the five most active
   * screen names (by count, then name), as "name count".
   */
  static Figures expected(List<String> lines, String word) throws Exception {
    ObjectMapper json = new ObjectMapper();
    Map<Long, JsonNode> statuses = new LinkedHashMap<>();
    for (String line : lines) {
      JsonNode status = json.readTree(line);
      statuses.putIfAbsent(status.get("id").asLong(), status);
    }
    long matches = 0;
    Map<String, Long> perAccount = new HashMap<>();
    for (JsonNode status : statuses.values()) {
      String text = status.path("extended_tweet").path("full_text").isTextual()
          ? status.path("extended_tweet").path("full_text").asText()
          : status.path("full_text").isTextual() ? status.path("full_text").asText()
          : status.path("text").asText();
      if (Arrays.stream(text.split("[^\\p{L}\\p{N}]+"))
          .anyMatch(token -> token.toLowerCase(Locale.ROOT).equals(word))) {
        matches++;
      }
      perAccount.merge(status.path("user").path("screen_name").asText(), 1L, Long::sum);
    }
    List<String> top = perAccount.entrySet().stream()
        .sorted(Comparator.comparing(Map.Entry<String, Long>::getValue).reversed()
            .thenComparing(Map.Entry::getKey))
        .limit(5).map(e -> e.getKey() + " " + e.getValue()).toList();
    return new Figures(statuses.size(), matches, top);
  }

  @Test
  void demo_runsThePipelineAndPrintsTheFigures_andStopsItsProcesses() throws Exception {
    Path sample = Path.of("..", "samples", "tweets.jsonl");
    List<String> lines = Files.readAllLines(sample, StandardCharsets.UTF_8).subList(0, 400);
    Path tweets = Files.write(dir.resolve("tweets.jsonl"), lines, StandardCharsets.UTF_8);
    Figures expected = expected(lines, "ethereum");
    assertThat(expected.matches()).as("the sample mentions ethereum").isPositive();
    long childrenBefore = ProcessHandle.current().descendants().count();

    Cli.Result result = Cli.run("", "demo", "--dir", dir.resolve("demo").toString(),
        "--tweets", tweets.toString());

    assertThat(result.exitCode()).as(result.err() + result.out()).isZero();
    assertThat(result.out())
        .contains(String.format(Locale.ROOT, "   tweets:                      %,d%n",
            expected.tweets()))
        .contains(String.format(Locale.ROOT, "   tweets matching \"ethereum\":  %,d%n",
            expected.matches()))
        .contains("./replikon peer --port 9095")
        .contains("./replikon collect")
        .contains("./replikon stream");
    List<String> out = result.out().lines().toList();
    int heading = out.indexOf("   the five most active accounts:");
    assertThat(heading).as(result.out()).isNotNegative();
    List<String> accounts = out.subList(heading + 1, Math.min(out.size(), heading + 6)).stream()
        .map(ACCOUNT::matcher).filter(Matcher::matches)
        .map(m -> m.group(1) + " " + m.group(2).replace(",", "")).toList();
    assertThat(accounts).as(result.out()).containsExactlyElementsOf(expected.topAccounts());
    assertThat(Files.exists(dir.resolve("demo").resolve("tweets.db"))).isTrue();
    assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count())
        .as("the demo's processes are stopped").isEqualTo(childrenBefore);
  }

  @Test
  void demo_missingTweetsFile_failsNamingIt() {
    Cli.Result result = Cli.run("", "demo", "--dir", dir.toString(), "--tweets",
        dir.resolve("none.jsonl").toString());
    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.err()).contains("no tweets at").contains("none.jsonl");
  }
}
