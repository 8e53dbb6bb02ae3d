/*
 * Generates samples/tweets.jsonl: synthetic but realistic Twitter API v1.1 status objects, one JSON
 * object per line, for the replikon demo. JDK only, deterministic for a given seed.
 *
 * Usage: java scripts/GenerateSampleTweets.java [--count N] [--seed S] [--out FILE]
 *        (defaults: --count 3000 --seed 42 --out samples/tweets.jsonl)
 *
 * All accounts, names and texts are made up. The mix: about 1 in 4 retweets (with a full
 * retweeted_status), about 1 in 5 replies, about 1 in 8 long tweets (truncated text plus an
 * extended_tweet), texts in English, German, Japanese, Russian, Arabic, Hebrew and Chinese with
 * emoji, and the word "ethereum" in roughly a tenth of the lines. Account activity is skewed: the
 * five most active accounts are clearly ahead of the rest.
 */

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

public class GenerateSampleTweets {

  // ---------------------------------------------------------------------------------------------
  // Settings

  static final int USERS = 400;
  static final double RETWEET_P = 0.25;
  static final double REPLY_P = 0.20;
  /** Probability that a non-retweet is long; retweets are 1/4, so about 1/8 of all lines. */
  static final double LONG_P = 0.125 / (1 - RETWEET_P);
  /** Probability that a text (an original or a retweeted one) mentions ethereum. */
  static final double ETH_P = 0.095;
  /** The stream starts here (UTC). */
  static final long START_MS = Instant.parse("2018-10-10T20:19:24Z").toEpochMilli();
  static final long TWEPOCH = 1288834974657L;

  static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss xx yyyy", Locale.ENGLISH)
          .withZone(ZoneOffset.UTC);

  // ---------------------------------------------------------------------------------------------
  // Vocabulary

  static final String[] LANGS = {"en", "de", "ja", "ru", "ar", "he", "zh"};
  static final double[] LANG_W = {0.46, 0.15, 0.11, 0.09, 0.07, 0.05, 0.07};

  static final String[] TECH = {"CRDTs", "Automerge", "Yjs", "Rust", "Kafka", "SQLite",
      "vector clocks", "gossip protocols", "Raft", "WebAssembly", "Kubernetes", "libp2p",
      "delta-state CRDTs", "Java 17", "Merkle trees", "zk-rollups", "RocksDB", "WebSockets",
      "IPFS", "OR-Sets", "Lamport clocks", "event sourcing"};
  static final String[] COINS = {"Bitcoin", "Solana", "Cardano", "Polkadot", "Monero", "Tezos",
      "Cosmos", "Filecoin", "Avalanche", "Litecoin", "Dogecoin", "bitcoin", "BTC", "Chainlink"};
  static final String[] ETH_WORDS = {"Ethereum", "Ethereum", "Ethereum", "ethereum", "ethereum",
      "ETHEREUM"};
  static final String[] ETH_TAGS = {"ethereum", "ethereum", "Ethereum", "ETHEREUM"};
  static final String[] CASHTAGS = {"BTC", "ETH", "SOL", "ADA", "DOT", "XMR", "LINK", "ATOM"};

  static final String[][] TEMPLATES = {
      // en
      {"Just shipped a new release of our {tech} sync layer. Merge conflicts are now somebody else's problem",
          "{coin} gas fees are wild today, {n} gwei for a simple transfer",
          "Hot take: {tech} is underrated for offline-first apps",
          "Reading the Shapiro et al. paper on CRDTs again. Still the best intro to convergent replicated data types",
          "Anyone running a {coin} node on a Raspberry Pi? Disk usage is at {n} GB and climbing",
          "Our team moved from polling to {tech} and p99 latency dropped by {pct}%",
          "{coin} devs: what's your favorite testnet right now?",
          "Last-writer-wins is not a merge strategy, it's a surrender",
          "Spent the whole weekend debugging a vector clock bug. The fix was one line",
          "Q&amp;A about {tech} at the meetup tonight, come say hi",
          "If your \"eventually consistent\" system is never consistent, that's a bug, not a feature",
          "Price of {coin} up {pct}% in 24h and my portfolio still looks like a crime scene",
          "Wrote a tiny {tech} demo that streams tweets into SQLite: {n} rows/s on a laptop",
          "Reminder: not your keys, not your coins. Move your {coin} off exchanges",
          "Is it just me or did the {coin} mempool get crazy this morning?",
          "Delta-state CRDTs + {tech} = happy replicas",
          "Windows path of the day: C:\\Users\\dev\\replikon\\data. Why does every tool escape this differently?",
          "TIL {tech} uses Lamport timestamps under the hood",
          "gm. Coffee, {coin} charts and a fresh pot of merge conflicts",
          "Anyone else's {coin} wallet stuck on syncing? Block {n} for an hour now",
          "Bear market is the best time to build. Working on {tech} tooling all week",
          "OR-Set vs LWW-Element-Set: which one do you use in production and why?",
          "Benchmarks:\tcommit {n} ops/s\tmerge {pct} ms. Not bad for a JVM peer",
          "Smart contracts on {coin} are cool until you have to audit one at 3am",
          "The best distributed system is the one you don't have to build. The second best uses {tech}",
          "Hiring: backend engineer who enjoys {tech} &amp; hates data loss. DMs open",
          "Finally understood why commutativity matters for {tech}. Took me {n} tries"},
      // de
      {"Endlich Wochenende! Zeit, mich um meinen {coin}-Knoten zu kümmern",
          "Größter Fehler heute: {tech} ohne Tests deployt. Nie wieder, versprochen",
          "Weiß jemand, warum die Gebühren bei {coin} gerade so hoch sind?",
          "Über {n} Replikate und trotzdem keine Konflikte. CRDTs sind schon schön",
          "Vortrag über {tech} in München war großartig, danke an alle!",
          "Schöne Grüße aus Köln, wo der {coin}-Stammtisch heute Abend übervoll ist",
          "Äußerst spannend: konfliktfreie replizierte Datentypen in der Praxis",
          "Mein Büro riecht nach Kaffee und Lötzinn. Heute wird an {tech} geschraubt",
          "Straße gesperrt, Zug fällt aus, aber {coin} steigt um {pct}%. Man nimmt, was man kriegt",
          "Fühlt sich gut an, wenn der Merge nach {n} Tagen offline einfach funktioniert",
          "Wer hätte gedacht, dass Vektoruhren so viel Spaß machen? Übrigens: {tech} ist großartig",
          "Heiße Diskussion im Büro: {coin} oder doch lieber Festgeld? Ich enthalte mich",
          "Kurze Frage an die Runde: nutzt ihr {tech} schon produktiv?"},
      // ja
      {"今日は{tech}の勉強会に参加しました。とても勉強になった！",
          "{coin}の手数料が高すぎる…{n}円って何",
          "CRDTを使ったオフラインファーストのアプリを作っています",
          "𠮷野家で牛丼食べながら{coin}のチャートを見てる",
          "{tech}のドキュメント、日本語訳が欲しいです",
          "週末は{coin}ノードの同期待ち。あと{n}ブロック",
          "分散システムは難しいけど楽しい。ベクタークロック最高",
          "新しいリリースで同期速度が{pct}%向上しました",
          "{coin}のスマートコントラクト、テストネットで動いた！",
          "マージの競合がゼロになる世界、それがCRDT"},
      // ru
      {"Сегодня разбирался с {tech}, голова кипит",
          "Кто-нибудь знает, почему комиссии в {coin} снова выросли?",
          "CRDT — это магия, которая просто работает",
          "Запустил ноду {coin} на старом ноутбуке, синхронизация заняла {n} часов",
          "Курс {coin} вырос на {pct}% за сутки. Ёлки-палки!",
          "Доклад про {tech} на митапе в Москве был огонь",
          "Пишу статью о репликации данных без конфликтов",
          "Смарт-контракты на {coin} — это удобно, пока не приходит аудит",
          "Ещё один вечер с {tech} и чашкой чая"},
      // ar
      {"اليوم تعلمت الكثير عن {tech} في ورشة العمل",
          "هل يعرف أحد لماذا رسوم {coin} مرتفعة جدا اليوم؟",
          "البيانات الموزعة بدون تعارض هي المستقبل",
          "سعر {coin} ارتفع بنسبة {pct}% خلال يوم واحد",
          "أعمل على تطبيق يعمل بدون إنترنت باستخدام {tech}",
          "مؤتمر التقنية في دبي كان رائعا، تحدثنا عن {coin} و {tech}",
          "شبكة {coin} بطيئة الليلة، انتظرت {n} دقيقة"},
      // he
      {"היום למדתי המון על {tech} במיטאפ בתל אביב",
          "מישהו יודע למה העמלות ב-{coin} כל כך גבוהות?",
          "מערכות מבוזרות זה קשה, אבל שווה את זה",
          "המחיר של {coin} עלה ב-{pct}% היום",
          "עובד על סנכרון נתונים בלי קונפליקטים עם {tech}",
          "חוזים חכמים על {coin} זה מגניב עד שצריך לבדוק אותם"},
      // zh
      {"今天在研究{tech}，分布式系统真有意思",
          "{coin}的手续费又涨了，转账要{n}块钱",
          "无冲突复制数据类型（CRDT）真是太优雅了",
          "{coin}今天涨了{pct}%，但我还是没上车",
          "周末在家写了一个{tech}的小工具",
          "有人在用{coin}做开发吗？求推荐测试网",
          "向量时钟的bug调了一整天，最后只改了一行"}};

  static final String[] TERMINATORS = {".", ".", "。", ".", ".", ".", "。"};
  static final String[][] FILLERS = {
      {"Thoughts?", "More soon.", "Stay tuned.", "Thread below.", "Back to work.", "lol"},
      {"Meinungen?", "Mehr bald.", "Weiter geht's.", "Tschüß!"},
      {"どう思う？", "続きはまた。", "頑張ろう！", "草"},
      {"Что думаете?", "Продолжение следует.", "Ну что ж."},
      {"ما رأيكم؟", "المزيد قريبا."},
      {"מה דעתכם?", "עוד מעט עוד."},
      {"大家怎么看？", "未完待续。", "加油！"}};

  static final String[][] HASHTAGS = {
      {"crdt", "distributedsystems", "rustlang", "java", "bitcoin", "defi", "web3", "opensource",
          "sqlite", "localfirst", "devlife", "blockchain", "crypto", "100DaysOfCode", "Kafka"},
      {"Krypto", "Technik", "CRDT", "Softwareentwicklung", "Blockchain", "Köln", "München"},
      {"仮想通貨", "分散システム", "CRDT", "エンジニア", "ブロックチェーン"},
      {"криптовалюта", "разработка", "CRDT", "блокчейн"},
      {"تقنية", "بلوكتشين", "برمجة"},
      {"בלוקצ׳יין", "פיתוח", "CRDT"},
      {"区块链", "分布式", "加密货币", "CRDT"}};

  static final String[] EMOJI = {"🚀", "🔥", "😂", "🤔", "💎", "🙌", "🧵", "📈", "📉", "✅",
      "⚡", "🦀", "☕", "🎉", "🤝", "👍🏽", "❤️", "🇩🇪", "👩‍💻", "👨‍👩‍👧", "🏳️‍🌈", "🇯🇵",
      "🙏🏻", "😅", "🤯", "💸", "🧑🏿‍🚀", "✌🏾", "🐢", "🌍", "😭", "🫠"};
  static final String[] EXTRAS = {"𝕏", "𝐂𝐑𝐃𝐓", "𝔪𝔢𝔯𝔤𝔢", "𝄞", "𠮷", "𝟭𝟬𝘅"};

  static final String[] URLS = {"https://github.com/replikon/replikon", "https://crdt.tech/papers.html",
      "https://arxiv.org/abs/1805.06358", "https://martin.kleppmann.com/2020/07/06/crdt-hard-parts-hydra.html",
      "https://www.sqlite.org/fts5.html", "https://blog.example.dev/posts/vector-clocks-explained",
      "https://www.youtube.com/watch?v=B5NULPSiOGw", "https://medium.com/@someone/why-lww-is-not-enough-3f2a9c",
      "https://news.ycombinator.com/item?id=18172340", "https://docs.rs/automerge/latest/automerge/",
      "https://zeit.de/digital/2018-10/blockchain-kryptowaehrung", "https://qiita.com/crdt/items/8c1f0a2b",
      "https://habr.com/ru/post/425613/", "https://www.coindesk.com/markets/2018/10/10/",
      "https://example.org/talks/replication-without-tears"};

  static final String[][] SOURCES = {
      {"http://twitter.com/download/iphone", "Twitter for iPhone"},
      {"http://twitter.com/download/android", "Twitter for Android"},
      {"https://mobile.twitter.com", "Twitter Web App"},
      {"http://twitter.com", "Twitter Web Client"},
      {"https://about.twitter.com/products/tweetdeck", "TweetDeck"},
      {"https://ifttt.com", "IFTTT"},
      {"https://www.hootsuite.com", "Hootsuite Inc."},
      {"https://github.com/replikon/replikon", "replikon-bot"}};
  static final double[] SOURCE_W = {0.32, 0.28, 0.18, 0.06, 0.08, 0.03, 0.03, 0.02};

  // Accounts
  static final String[] HANDLE_FIRST = {"anna", "lukas", "jonas", "lena", "mia", "felix", "jana",
      "yuki", "hiroshi", "sakura", "kenji", "dmitri", "olga", "ivan", "natasha", "ahmed", "layla",
      "omar", "noa", "yossi", "tamar", "wei", "li", "chen", "mei", "sam", "alex", "chris", "jess",
      "mike", "sara", "tom", "emma", "nick", "kate", "dan", "max", "leo", "zoe", "ben", "ada",
      "grace", "linus", "satoshi", "vitalik_fan", "hal", "nils", "jörn", "paula", "marta"};
  static final String[] HANDLE_PART = {"crdt", "merge", "lattice", "node", "hash", "block", "chain",
      "dev", "byte", "ops", "sync", "gossip", "clock", "raft", "rust", "jvm", "data", "hodl",
      "defi", "code", "bits", "peer", "replica", "delta", "tech", "web3", "btc", "sql"};

  static final String[][] DISPLAY_NAMES = {
      {"Anna Smith", "Chris Jordan", "Sam Patel", "Alex Kim", "Jess O'Brien", "Mike \"Merge\" Miller",
          "Kate Nguyen", "Dan Brooks", "Grace H.", "Tom Fletcher", "Ada L. 🦀", "Ben 🚀", "zoe 👩‍💻",
          "𝐂𝐑𝐃𝐓 𝐍𝐞𝐫𝐝", "Nick | building in public", "Sara \\ dev", "Emma 🏳️‍🌈", "Max (he/him)"},
      {"Jörg Weiß", "Lena Müller", "Lukas Schäfer", "Jana Groß", "Felix Köhler", "Nils Brückner",
          "Mia Süß 🇩🇪", "Jonas \"Knoten\" Bäcker", "Paula Öztürk"},
      {"山田 太郎", "佐藤 由紀", "鈴木 健二", "さくら🌸", "田中ひろし", "𠮷田 花子", "けんじ@分散システム"},
      {"Дмитрий Петров", "Ольга Смирнова", "Иван Ёлкин", "Наташа 🚀", "Алексей К."},
      {"أحمد علي", "ليلى حسن", "عمر خالد", "مريم 🌙"},
      {"נועה כהן", "יוסי לוי", "תמר ✡️", "דניאל א."},
      {"王伟", "李娜", "陈明 🐼", "梅梅", "张小龙"}};
  static final String[][] LOCATIONS = {
      {"San Francisco, CA", "London", "Brooklyn, NY", "", "The Internet", "127.0.0.1", "Toronto",
          "Austin, TX", "Dublin, Ireland", "on-chain 🌍"},
      {"Berlin, Deutschland", "München", "Köln", "Zürich", "Wien, Österreich", "Hamburg"},
      {"東京都渋谷区", "大阪", "日本", "福岡"},
      {"Москва", "Санкт-Петербург", "Новосибирск", ""},
      {"دبي", "القاهرة", "الرياض"},
      {"תל אביב", "ירושלים", "חיפה"},
      {"上海", "北京", "深圳", "台北"}};
  static final String[][] DESCRIPTIONS = {
      {"Distributed systems nerd. CRDTs, Rust, coffee. Opinions are my own.",
          "Building local-first software. Previously @somewhere. he/him",
          "crypto since 2013 | not financial advice | 🚀📈",
          "I merge things for a living. Sometimes they converge.",
          "Staff engineer. Writing about replication, consensus & \"eventual\" consistency.",
          "Java, Kafka, SQLite. Dad of two. Tweets are cached, not committed.", ""},
      {"Softwareentwicklerin aus Köln. Verteilte Systeme, Fahrräder und Käsespätzle.",
          "Krypto-Enthusiast. Keine Anlageberatung! 🇩🇪", "Informatik @ TU München. Über CRDTs & Co."},
      {"分散システムとCRDTが好きなエンジニアです。", "仮想通貨と技術の話をします。投資は自己責任で。"},
      {"Разработчик. Пишу про распределённые системы и крипту.", "Блокчейн, Rust и котики 🐈"},
      {"مهندس برمجيات مهتم بالأنظمة الموزعة", "أكتب عن التقنية والعملات الرقمية"},
      {"מהנדסת תוכנה. מערכות מבוזרות וקפה.", "קריפטו וטכנולוגיה, בלי ייעוץ השקעות"},
      {"程序员，研究分布式系统和CRDT。", "区块链爱好者，不构成投资建议。"}};
  static final String[] COLORS = {"1DA1F2", "000000", "C0DEED", "F5F8FA", "E81C4F", "19CF86",
      "FFAD1F", "794BC4", "3B94D9", "981CEB", "ABB8C2", "FFFFFF", "333333"};

  static final Object[][] PLACES = {
      {"Berlin", "Berlin, Germany", "DE", "Germany", 52.520008, 13.404954},
      {"Köln", "Köln, Deutschland", "DE", "Deutschland", 50.937531, 6.960279},
      {"Shibuya-ku", "Shibuya-ku, Tokyo", "JP", "Japan", 35.663, 139.698},
      {"San Francisco", "San Francisco, CA", "US", "United States", 37.7749, -122.4194},
      {"Moscow", "Moscow, Russia", "RU", "Russia", 55.7558, 37.6173},
      {"Tel Aviv-Yafo", "Tel Aviv-Yafo, Israel", "IL", "Israel", 32.0853, 34.7818},
      {"Dubai", "Dubai, United Arab Emirates", "AE", "United Arab Emirates", 25.2048, 55.2708},
      {"Shanghai", "Shanghai, China", "CN", "China", 31.2304, 121.4737}};

  // ---------------------------------------------------------------------------------------------
  // Model

  static final class User {
    long id;
    String screenName, name, location, description, url, lang, created;
    long followers, friends, listed, favourites, statuses;
    boolean verified, geoEnabled, defaultProfile, hasBanner;
    String linkColor, sidebarBorder, sidebarFill, textColor, bgColor, image;
    long bannerTime;

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", id);
      m.put("id_str", Long.toString(id));
      m.put("name", name);
      m.put("screen_name", screenName);
      m.put("location", location);
      m.put("url", url);
      m.put("description", description);
      m.put("translator_type", "none");
      m.put("protected", false);
      m.put("verified", verified);
      m.put("followers_count", followers);
      m.put("friends_count", friends);
      m.put("listed_count", listed);
      m.put("favourites_count", favourites);
      m.put("statuses_count", statuses);
      m.put("created_at", created);
      m.put("utc_offset", null);
      m.put("time_zone", null);
      m.put("geo_enabled", geoEnabled);
      m.put("lang", null);
      m.put("contributors_enabled", false);
      m.put("is_translator", false);
      m.put("profile_background_color", bgColor);
      m.put("profile_background_image_url", "http://abs.twimg.com/images/themes/theme1/bg.png");
      m.put("profile_background_image_url_https", "https://abs.twimg.com/images/themes/theme1/bg.png");
      m.put("profile_background_tile", false);
      m.put("profile_link_color", linkColor);
      m.put("profile_sidebar_border_color", sidebarBorder);
      m.put("profile_sidebar_fill_color", sidebarFill);
      m.put("profile_text_color", textColor);
      m.put("profile_use_background_image", true);
      m.put("profile_image_url", "http://pbs.twimg.com/profile_images/" + image + "_normal.jpg");
      m.put("profile_image_url_https", "https://pbs.twimg.com/profile_images/" + image + "_normal.jpg");
      if (hasBanner) {
        m.put("profile_banner_url", "https://pbs.twimg.com/profile_banners/" + id + "/" + bannerTime);
      }
      m.put("default_profile", defaultProfile);
      m.put("default_profile_image", false);
      m.put("following", null);
      m.put("follow_request_sent", null);
      m.put("notifications", null);
      return m;
    }
  }

  static final int TEXT = 0, EMOJI_SEG = 1, HASH = 2, MENTION = 3, URL = 4, CASH = 5;

  /** An atomic piece of tweet text; entities are never cut. */
  static final class Seg {
    final int kind;
    final String s;
    final Object payload; // User for mentions, String[]{url, expanded, display} for urls
    Seg(int kind, String s, Object payload) {
      this.kind = kind;
      this.s = s;
      this.payload = payload;
    }
  }

  static final class Rendered {
    String text;
    int length;
    List<Object> hashtags = new ArrayList<>(), mentions = new ArrayList<>(),
        urls = new ArrayList<>(), symbols = new ArrayList<>();

    Map<String, Object> entities() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hashtags", hashtags);
      m.put("urls", urls);
      m.put("user_mentions", mentions);
      m.put("symbols", symbols);
      return m;
    }
  }

  static final class Tweet {
    Map<String, Object> json;
    List<Seg> segs;
    long id;
    User user;
  }

  // ---------------------------------------------------------------------------------------------
  // State

  final Random rnd;
  final List<User> users = new ArrayList<>();
  double[] cumulative;
  final List<Tweet> recent = new ArrayList<>();

  GenerateSampleTweets(long seed) {
    rnd = new Random(seed);
  }

  public static void main(String[] args) throws IOException {
    int count = 3000;
    long seed = 42;
    Path out = Path.of("samples", "tweets.jsonl");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if ((a.equals("--count") || a.equals("--seed") || a.equals("--out")) && i + 1 >= args.length) {
        usage("missing value for " + a);
      }
      switch (a) {
        case "--count" -> count = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "-h", "--help" -> {
          usage(null);
        }
        default -> usage("unknown argument: " + a);
      }
    }
    if (count < 0) {
      usage("--count must not be negative");
    }
    GenerateSampleTweets g = new GenerateSampleTweets(seed);
    g.buildUsers();
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    long bytes = 0;
    try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      long ms = START_MS;
      StringBuilder sb = new StringBuilder(8192);
      for (int i = 0; i < count; i++) {
        ms += 1 + (long) (-Math.log(1 - g.rnd.nextDouble()) * 40_000);
        Map<String, Object> status = g.next(ms);
        sb.setLength(0);
        Json.write(sb, status);
        sb.append('\n');
        w.write(sb.toString());
        bytes += sb.toString().getBytes(StandardCharsets.UTF_8).length;
      }
    }
    System.err.printf("wrote %d tweets (%d bytes) to %s (seed %d)%n", count, bytes, out, seed);
  }

  static void usage(String error) {
    if (error != null) {
      System.err.println("error: " + error);
    }
    System.err.println("usage: java scripts/GenerateSampleTweets.java [--count N] [--seed S] [--out FILE]");
    System.exit(error == null ? 0 : 2);
  }

  // ---------------------------------------------------------------------------------------------
  // Accounts

  void buildUsers() {
    Set<String> handles = new HashSet<>();
    Set<Long> ids = new HashSet<>();
    long t2007 = Instant.parse("2007-03-01T00:00:00Z").toEpochMilli();
    long t2013 = Instant.parse("2013-01-01T00:00:00Z").toEpochMilli();
    long t2018 = Instant.parse("2018-09-30T00:00:00Z").toEpochMilli();
    while (users.size() < USERS) {
      User u = new User();
      int li = pick(LANG_W);
      u.lang = LANGS[li];
      String h = handle();
      if (!handles.add(h.toLowerCase(Locale.ROOT))) {
        continue;
      }
      u.screenName = h;
      u.name = pick(DISPLAY_NAMES[li]);
      u.location = rnd.nextInt(10) == 0 ? null : pick(LOCATIONS[li]);
      u.description = rnd.nextInt(12) == 0 ? null : pick(DESCRIPTIONS[li]);
      u.url = rnd.nextInt(3) == 0 ? null : tco();
      long createdMs = t2007 + (long) (rnd.nextDouble() * (t2018 - t2007));
      u.created = DATE.format(Instant.ofEpochMilli(createdMs));
      if (createdMs < t2013) {
        u.id = 1_000_000L + (long) ((double) (createdMs - t2007) / (t2013 - t2007) * 1_000_000_000L)
            + rnd.nextInt(1000);
      } else {
        u.id = snowflake(createdMs);
      }
      if (!ids.add(u.id)) {
        handles.remove(h.toLowerCase(Locale.ROOT));
        continue;
      }
      u.followers = (long) Math.exp(5.5 + rnd.nextGaussian() * 1.8);
      u.friends = (long) Math.exp(5.8 + rnd.nextGaussian() * 1.1);
      u.listed = u.followers / (20 + rnd.nextInt(60));
      u.favourites = (long) Math.exp(7 + rnd.nextGaussian() * 1.5);
      u.statuses = (long) Math.exp(7.5 + rnd.nextGaussian() * 1.4);
      u.verified = rnd.nextInt(25) == 0;
      u.geoEnabled = rnd.nextInt(3) == 0;
      u.defaultProfile = rnd.nextInt(3) == 0;
      u.hasBanner = rnd.nextInt(4) != 0;
      u.bannerTime = createdMs / 1000 + rnd.nextInt(200_000_000);
      u.linkColor = u.defaultProfile ? "1DA1F2" : pick(COLORS);
      u.sidebarBorder = u.defaultProfile ? "C0DEED" : pick(COLORS);
      u.sidebarFill = u.defaultProfile ? "DDEEF6" : pick(COLORS);
      u.textColor = u.defaultProfile ? "333333" : pick(COLORS);
      u.bgColor = u.defaultProfile ? "F5F8FA" : pick(COLORS);
      u.image = (900_000_000_000_000_000L + (long) (rnd.nextDouble() * 1e17)) + "/" + alnum(8);
      users.add(u);
    }
    // users.get(r) has activity rank r: the top five by hand, the rest Zipf-like.
    double[] w = new double[USERS];
    double[] top = {0.034, 0.029, 0.025, 0.022, 0.02};
    double restSum = 0;
    for (int r = 5; r < USERS; r++) {
      w[r] = 1.0 / (r - 4 + 45);
      restSum += w[r];
    }
    double topSum = 0;
    for (int r = 0; r < 5; r++) {
      w[r] = top[r];
      topSum += top[r];
      users.get(r).verified = rnd.nextBoolean();
      users.get(r).followers = 20_000 + (long) (rnd.nextDouble() * 400_000);
    }
    for (int r = 5; r < USERS; r++) {
      w[r] = w[r] / restSum * (1 - topSum);
    }
    cumulative = new double[USERS];
    double c = 0;
    for (int r = 0; r < USERS; r++) {
      c += w[r];
      cumulative[r] = c;
    }
  }

  String handle() {
    String first = pick(HANDLE_FIRST).replace("ö", "oe");
    String part = pick(HANDLE_PART);
    String h = switch (rnd.nextInt(6)) {
      case 0 -> first + "_" + part;
      case 1 -> first + (rnd.nextInt(9000) + 10);
      case 2 -> part + "_" + first;
      case 3 -> Character.toUpperCase(first.charAt(0)) + first.substring(1) + Character.toUpperCase(part.charAt(0)) + part.substring(1);
      case 4 -> first + part + rnd.nextInt(100);
      default -> "the" + part + first;
    };
    return h.length() > 15 ? h.substring(0, 15) : h;
  }

  User sampleUser() {
    double x = rnd.nextDouble() * cumulative[USERS - 1];
    int i = Arrays.binarySearch(cumulative, x);
    if (i < 0) {
      i = -i - 1;
    }
    return users.get(Math.min(i, USERS - 1));
  }

  // ---------------------------------------------------------------------------------------------
  // Statuses

  Map<String, Object> next(long ms) {
    User u = sampleUser();
    u.statuses++;
    double r = rnd.nextDouble();
    if (r < RETWEET_P) {
      return retweet(u, ms);
    }
    Tweet target = null;
    if (r < RETWEET_P + REPLY_P && !recent.isEmpty()) {
      for (int tries = 0; tries < 10 && (target == null || target.user == u); tries++) {
        target = recent.get(recent.size() - 1 - rnd.nextInt(recent.size()));
      }
      if (target.user == u) {
        target = null;
      }
    }
    Tweet t = original(u, ms, target, rnd.nextDouble() < LONG_P, false);
    recent.add(t);
    if (recent.size() > 200) {
      recent.remove(0);
    }
    return t.json;
  }

  Map<String, Object> retweet(User u, long ms) {
    User author = sampleUser();
    while (author == u) {
      author = sampleUser();
    }
    long origMs = ms - 60_000L - (long) (-Math.log(1 - rnd.nextDouble()) * 6 * 3600_000L);
    Tweet orig = original(author, origMs, null, rnd.nextDouble() < LONG_P, true);
    List<Seg> segs = new ArrayList<>();
    segs.add(new Seg(TEXT, "RT ", null));
    segs.add(new Seg(MENTION, "@" + author.screenName, author));
    segs.add(new Seg(TEXT, ": ", null));
    segs.addAll(orig.segs);
    Rendered full = render(segs, Integer.MAX_VALUE);
    Rendered shown = full.length > 140 ? render(segs, 140) : full;
    Map<String, Object> m = header(u, ms, shown.text, false, null);
    m.put("retweeted_status", orig.json);
    m.put("is_quote_status", false);
    m.put("quote_count", 0);
    m.put("reply_count", 0);
    m.put("retweet_count", 0);
    m.put("favorite_count", 0);
    m.put("entities", shown.entities());
    m.put("favorited", false);
    m.put("retweeted", false);
    if (!shown.urls.isEmpty()) {
      m.put("possibly_sensitive", false);
    }
    m.put("filter_level", "low");
    m.put("lang", orig.json.get("lang"));
    m.put("timestamp_ms", Long.toString(ms));
    return m;
  }

  /** An original tweet or a reply (target != null), possibly long. */
  Tweet original(User u, long ms, Tweet target, boolean isLong, boolean popular) {
    int li = rnd.nextDouble() < 0.85 ? indexOf(LANGS, u.lang) : pick(LANG_W);
    boolean eth = rnd.nextDouble() < ETH_P;
    List<Seg> segs = null;
    for (int attempt = 0; segs == null; attempt++) {
      segs = isLong ? longBody(li, eth, target) : shortBody(li, eth, target, attempt);
    }
    Rendered full = render(segs, Integer.MAX_VALUE);
    Rendered shown = isLong ? render(segs, 140) : full;
    Map<String, Object> m = header(u, ms, shown.text, isLong, target);
    if (isLong) {
      Map<String, Object> ext = new LinkedHashMap<>();
      ext.put("full_text", full.text);
      int start = 0;
      for (int i = 0; i + 1 < segs.size() && segs.get(i).kind == MENTION; i += 2) {
        start += cp(segs.get(i).s) + cp(segs.get(i + 1).s);
      }
      ext.put("display_text_range", List.of(start, full.length));
      ext.put("entities", full.entities());
      m.put("extended_tweet", ext);
    }
    m.put("is_quote_status", false);
    if (popular) {
      int rts = (int) Math.exp(1 + rnd.nextDouble() * 6);
      m.put("quote_count", rts / (5 + rnd.nextInt(10)));
      m.put("reply_count", rts / (2 + rnd.nextInt(6)));
      m.put("retweet_count", rts);
      m.put("favorite_count", rts * (2 + rnd.nextInt(5)));
    } else {
      m.put("quote_count", 0);
      m.put("reply_count", 0);
      m.put("retweet_count", 0);
      m.put("favorite_count", 0);
    }
    m.put("entities", shown.entities());
    m.put("favorited", false);
    m.put("retweeted", false);
    if (!full.urls.isEmpty()) {
      m.put("possibly_sensitive", false);
    }
    m.put("filter_level", "low");
    m.put("lang", LANGS[li]);
    if (!popular) {
      m.put("timestamp_ms", Long.toString(ms));
    }
    Tweet t = new Tweet();
    t.json = m;
    t.segs = segs;
    t.id = (Long) m.get("id");
    t.user = u;
    return t;
  }

  Map<String, Object> header(User u, long ms, String text, boolean truncated, Tweet target) {
    Map<String, Object> m = new LinkedHashMap<>();
    long id = snowflake(ms);
    m.put("created_at", DATE.format(Instant.ofEpochMilli(ms)));
    m.put("id", id);
    m.put("id_str", Long.toString(id));
    m.put("text", text);
    String[] src = SOURCES[pick(SOURCE_W)];
    m.put("source", "<a href=\"" + src[0] + "\" rel=\"nofollow\">" + src[1] + "</a>");
    m.put("truncated", truncated);
    m.put("in_reply_to_status_id", target == null ? null : target.id);
    m.put("in_reply_to_status_id_str", target == null ? null : Long.toString(target.id));
    m.put("in_reply_to_user_id", target == null ? null : target.user.id);
    m.put("in_reply_to_user_id_str", target == null ? null : Long.toString(target.user.id));
    m.put("in_reply_to_screen_name", target == null ? null : target.user.screenName);
    m.put("user", u.json());
    boolean located = u.geoEnabled && rnd.nextInt(8) == 0;
    if (located) {
      Object[] p = PLACES[rnd.nextInt(PLACES.length)];
      double lat = (Double) p[4] + (rnd.nextDouble() - 0.5) * 0.08;
      double lon = (Double) p[5] + (rnd.nextDouble() - 0.5) * 0.08;
      m.put("geo", point(lat, lon));
      m.put("coordinates", point(lon, lat));
      m.put("place", place(p));
    } else {
      m.put("geo", null);
      m.put("coordinates", null);
      m.put("place", null);
    }
    m.put("contributors", null);
    return m;
  }

  static Map<String, Object> point(double a, double b) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", "Point");
    m.put("coordinates", List.of(num(a), num(b)));
    return m;
  }

  Map<String, Object> place(Object[] p) {
    double lat = (Double) p[4], lon = (Double) p[5];
    String id = Long.toHexString(((String) p[1]).hashCode() * 0x9E3779B97F4A7C15L);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("url", "https://api.twitter.com/1.1/geo/id/" + id + ".json");
    m.put("place_type", "city");
    m.put("name", p[0]);
    m.put("full_name", p[1]);
    m.put("country_code", p[2]);
    m.put("country", p[3]);
    Map<String, Object> box = new LinkedHashMap<>();
    box.put("type", "Polygon");
    box.put("coordinates", List.of(List.of(
        List.of(num(lon - 0.2), num(lat - 0.15)), List.of(num(lon - 0.2), num(lat + 0.15)),
        List.of(num(lon + 0.2), num(lat + 0.15)), List.of(num(lon + 0.2), num(lat - 0.15)))));
    m.put("bounding_box", box);
    m.put("attributes", new LinkedHashMap<>());
    return m;
  }

  static Json.Raw num(double d) {
    return new Json.Raw(String.format(Locale.ROOT, "%.6f", d));
  }

  // ---------------------------------------------------------------------------------------------
  // Texts

  /** A tweet of at most 140 code points, or null to try again. */
  List<Seg> shortBody(int li, boolean eth, Tweet target, int attempt) {
    List<Seg> segs = new ArrayList<>();
    replyPrefix(segs, target);
    int ethMode = eth ? rnd.nextInt(3) : -1; // 0: word, 1: hashtag, 2: both
    Set<String> used = new HashSet<>();
    int sentences = attempt < 3 && rnd.nextInt(4) == 0 ? 2 : 1;
    for (int s = 0; s < sentences; s++) {
      if (s > 0) {
        segs.add(new Seg(TEXT, joiner(li), null));
      }
      segs.add(new Seg(TEXT, sentence(li, s == 0 && (ethMode == 0 || ethMode == 2),
          s + 1 < sentences, used), null));
    }
    boolean small = attempt >= 3;
    extras(segs, li, ethMode == 1 || ethMode == 2, small);
    if (length(segs) > 140) {
      return null;
    }
    return segs;
  }

  /** A tweet of 200 to 280 code points. */
  List<Seg> longBody(int li, boolean eth, Tweet target) {
    int goal = 200 + rnd.nextInt(81);
    List<Seg> segs = new ArrayList<>();
    replyPrefix(segs, target);
    int ethMode = eth ? rnd.nextInt(3) : -1;
    boolean first = true;
    Set<String> used = new HashSet<>();
    for (int tries = 0; tries < 40 && length(segs) < goal - 25; tries++) {
      String s = sentence(li, first && (ethMode == 0 || ethMode == 2), true, used);
      String j = first ? "" : joiner(li);
      if (length(segs) + cp(j) + cp(s) <= goal) {
        if (!j.isEmpty()) {
          segs.add(new Seg(TEXT, j, null));
        }
        segs.add(new Seg(TEXT, s, null));
        first = false;
      }
    }
    List<Seg> tail = new ArrayList<>();
    extras(tail, li, ethMode == 1 || ethMode == 2 || (ethMode == 0 && first), false);
    if (length(segs) + length(tail) > 280) {
      tail.clear();
      if (ethMode >= 0 && first) {
        tail.add(new Seg(TEXT, " ", null));
        tail.add(new Seg(HASH, "#" + pick(ETH_TAGS), null));
      }
    }
    segs.addAll(tail);
    while (length(segs) < 200) {
      if (rnd.nextBoolean()) {
        segs.add(new Seg(TEXT, " ", null));
        segs.add(new Seg(EMOJI_SEG, pick(EMOJI), null));
      } else {
        segs.add(new Seg(TEXT, (li == 2 || li == 6 ? "" : " ") + pick(FILLERS[li]), null));
      }
    }
    return segs;
  }

  void replyPrefix(List<Seg> segs, Tweet target) {
    if (target == null) {
      return;
    }
    segs.add(new Seg(MENTION, "@" + target.user.screenName, target.user));
    segs.add(new Seg(TEXT, " ", null));
    if (rnd.nextInt(6) == 0) {
      User other = sampleUser();
      if (other != target.user) {
        segs.add(new Seg(MENTION, "@" + other.screenName, other));
        segs.add(new Seg(TEXT, " ", null));
      }
    }
  }

  /** Emoji, hashtags, cashtags, links and mentions after the sentences. */
  void extras(List<Seg> segs, int li, boolean ethTag, boolean small) {
    int emoji = rnd.nextInt(small ? 2 : 4) == 0 ? 0 : 1 + rnd.nextInt(small ? 1 : 3);
    if (emoji > 0) {
      segs.add(new Seg(TEXT, " ", null));
      for (int i = 0; i < emoji; i++) {
        if (rnd.nextInt(12) == 0) {
          if (i > 0) {
            segs.add(new Seg(TEXT, " ", null));
          }
          segs.add(new Seg(EMOJI_SEG, pick(EXTRAS), null));
        } else {
          segs.add(new Seg(EMOJI_SEG, pick(EMOJI), null));
        }
      }
    }
    int tags = small ? 0 : rnd.nextInt(4) == 0 ? 2 + rnd.nextInt(2) : rnd.nextInt(2);
    List<String> chosen = new ArrayList<>();
    if (ethTag) {
      chosen.add(pick(ETH_TAGS));
    }
    for (int i = 0; i < tags; i++) {
      String t = pick(rnd.nextInt(4) == 0 ? HASHTAGS[0] : HASHTAGS[li]);
      if (!chosen.contains(t)) {
        chosen.add(t);
      }
    }
    for (String t : chosen) {
      segs.add(new Seg(TEXT, " ", null));
      segs.add(new Seg(HASH, "#" + t, null));
    }
    if (!small && rnd.nextInt(10) == 0) {
      segs.add(new Seg(TEXT, " ", null));
      segs.add(new Seg(CASH, "$" + pick(CASHTAGS), null));
    }
    if (!small && rnd.nextInt(10) == 0) {
      User u = sampleUser();
      segs.add(new Seg(TEXT, " /cc ", null));
      segs.add(new Seg(MENTION, "@" + u.screenName, u));
    }
    if (rnd.nextInt(small ? 8 : 4) == 0) {
      String expanded = pick(URLS);
      String display = expanded.replaceFirst("^https?://(www\\.)?", "");
      if (display.length() > 26) {
        display = display.substring(0, 25) + "…";
      }
      String t = tco();
      segs.add(new Seg(TEXT, " ", null));
      segs.add(new Seg(URL, t, new String[] {t, expanded, display}));
    }
  }

  /** A sentence from a template of language li that is not in used (when possible). */
  String sentence(int li, boolean ethWord, boolean terminate, Set<String> used) {
    String[] pool = TEMPLATES[li];
    String t;
    int tries = 0;
    do {
      t = pick(pool);
    } while ((ethWord && !t.contains("{coin}")) || (used.contains(t) && ++tries < 50));
    used.add(t);
    String coin = ethWord ? pick(ETH_WORDS) : pick(COINS);
    t = t.replace("{coin}", coin)
        .replace("{tech}", pick(TECH))
        .replace("{n}", Integer.toString(rnd.nextInt(5) == 0 ? 1 + rnd.nextInt(9) : 10 + rnd.nextInt(990)))
        .replace("{pct}", Integer.toString(2 + rnd.nextInt(60)));
    char last = t.charAt(t.length() - 1);
    if ("?!.！？。…".indexOf(last) < 0 && (terminate || rnd.nextInt(3) != 0)) {
      t += TERMINATORS[li];
    }
    return t;
  }

  String joiner(int li) {
    int r = rnd.nextInt(6);
    if (r == 0) {
      return "\n\n";
    }
    if (r == 1) {
      return "\n";
    }
    return li == 2 || li == 6 ? "" : " ";
  }

  /** Renders segments; with a limit, cuts at limit - 1 code points and appends "…". */
  static Rendered render(List<Seg> segs, int limit) {
    Rendered r = new Rendered();
    StringBuilder sb = new StringBuilder();
    int pos = 0;
    boolean cut = false;
    int room = limit == Integer.MAX_VALUE ? limit : limit - 1;
    for (Seg s : segs) {
      int len = cp(s.s);
      if (pos + len > room) {
        if (s.kind == TEXT && room - pos > 0) {
          String part = s.s.substring(0, s.s.offsetByCodePoints(0, room - pos));
          int space = part.lastIndexOf(' ');
          if (space > 0 && part.length() - space < 15) {
            part = part.substring(0, space);
          }
          sb.append(part);
        }
        cut = true;
        break;
      }
      int start = pos;
      sb.append(s.s);
      pos += len;
      switch (s.kind) {
        case HASH -> {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("text", s.s.substring(1));
          m.put("indices", List.of(start, pos));
          r.hashtags.add(m);
        }
        case CASH -> {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("text", s.s.substring(1));
          m.put("indices", List.of(start, pos));
          r.symbols.add(m);
        }
        case MENTION -> {
          User u = (User) s.payload;
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("screen_name", u.screenName);
          m.put("name", u.name);
          m.put("id", u.id);
          m.put("id_str", Long.toString(u.id));
          m.put("indices", List.of(start, pos));
          r.mentions.add(m);
        }
        case URL -> {
          String[] u = (String[]) s.payload;
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("url", u[0]);
          m.put("expanded_url", u[1]);
          m.put("display_url", u[2]);
          m.put("indices", List.of(start, pos));
          r.urls.add(m);
        }
        default -> { }
      }
    }
    String text = sb.toString();
    if (cut) {
      text = text.stripTrailing() + "…";
    }
    r.text = text;
    r.length = cp(text);
    return r;
  }

  static int length(List<Seg> segs) {
    int n = 0;
    for (Seg s : segs) {
      n += cp(s.s);
    }
    return n;
  }

  static int cp(String s) {
    return s.codePointCount(0, s.length());
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  long snowflake(long ms) {
    return ((ms - TWEPOCH) << 22) | ((long) rnd.nextInt(1024) << 12) | rnd.nextInt(4096);
  }

  String tco() {
    return "https://t.co/" + alnum(10);
  }

  String alnum(int n) {
    String abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(abc.charAt(rnd.nextInt(abc.length())));
    }
    return sb.toString();
  }

  <T> T pick(T[] a) {
    return a[rnd.nextInt(a.length)];
  }

  int pick(double[] weights) {
    double sum = 0;
    for (double w : weights) {
      sum += w;
    }
    double x = rnd.nextDouble() * sum;
    for (int i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) {
        return i;
      }
    }
    return weights.length - 1;
  }

  static int indexOf(String[] a, String s) {
    for (int i = 0; i < a.length; i++) {
      if (a[i].equals(s)) {
        return i;
      }
    }
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // A tiny JSON writer: maps, lists, strings, numbers, booleans and null.

  static final class Json {
    /** A number written as is. */
    record Raw(String text) { }

    static void write(StringBuilder sb, Object o) {
      if (o == null) {
        sb.append("null");
      } else if (o instanceof String s) {
        string(sb, s);
      } else if (o instanceof Boolean || o instanceof Integer || o instanceof Long) {
        sb.append(o);
      } else if (o instanceof Raw r) {
        sb.append(r.text());
      } else if (o instanceof Map<?, ?> m) {
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
          if (!first) {
            sb.append(',');
          }
          first = false;
          string(sb, (String) e.getKey());
          sb.append(':');
          write(sb, e.getValue());
        }
        sb.append('}');
      } else if (o instanceof List<?> l) {
        sb.append('[');
        for (int i = 0; i < l.size(); i++) {
          if (i > 0) {
            sb.append(',');
          }
          write(sb, l.get(i));
        }
        sb.append(']');
      } else {
        throw new IllegalArgumentException("cannot write " + o.getClass());
      }
    }

    static void string(StringBuilder sb, String s) {
      sb.append('"');
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          case '\t' -> sb.append("\\t");
          case '\b' -> sb.append("\\b");
          case '\f' -> sb.append("\\f");
          default -> {
            if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
              sb.append(String.format("\\u%04x", (int) c));
            } else {
              sb.append(c);
            }
          }
        }
      }
      sb.append('"');
    }
  }
}
