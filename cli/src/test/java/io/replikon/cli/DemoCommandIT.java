package io.replikon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code replikon demo} on the first 400 bundled sample tweets, its parts as child JVMs. */
class DemoCommandIT {
  @TempDir Path dir;

  @Test
  void demo_runsThePipelineAndPrintsTheQuery_andStopsItsProcesses() throws Exception {
    Path sample = Path.of("..", "samples", "tweets.jsonl");
    List<String> lines = Files.readAllLines(sample, StandardCharsets.UTF_8).subList(0, 400);
    Path tweets = Files.write(dir.resolve("tweets.jsonl"), lines, StandardCharsets.UTF_8);
    long ethereum = lines.stream().filter(l -> l.contains("thereum")).count();
    long childrenBefore = ProcessHandle.current().descendants().count();

    Cli.Result result = Cli.run("", "demo", "--dir", dir.resolve("demo").toString(),
        "--tweets", tweets.toString());

    assertThat(result.exitCode()).as(result.err() + result.out()).isZero();
    assertThat(result.out()).contains("tweets:                      400")
        .contains("tweets matching \"ethereum\":")
        .contains("the five most active accounts:")
        .contains("./replikon peer --port 9095")
        .contains("./replikon collect")
        .contains("./replikon stream");
    assertThat(ethereum).isPositive();
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
