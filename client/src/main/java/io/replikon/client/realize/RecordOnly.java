package io.replikon.client.realize;

/** The one handler {@link Handler#recordOnly()} returns, so that a realizer can recognize it. */
final class RecordOnly {
  static final Handler<Object> HANDLER = (context, transaction) -> { };

  private RecordOnly() {}
}
