package io.replikon.client.realize;

import io.replikon.cdvcs.Address;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The callback sink: calls a {@link Callback} per applied transaction, at least once. Its
 * applied-log is kept in memory, or in a sidecar file replaced atomically after each batch.
 */
final class CallbackSink implements Sink<Callback> {
  private final Callback callback;
  private final Optional<Path> sidecarPath;
  private Sidecar sidecar;

  CallbackSink(Callback callback, Optional<Path> sidecarPath) {
    this.callback = callback;
    this.sidecarPath = sidecarPath;
    this.sidecar = sidecarPath.flatMap(Sidecar::read).orElse(Sidecar.EMPTY);
  }

  @Override
  public AppliedLog load(Address address) {
    sidecar.check(address, sidecarPath.orElse(Path.of("the callback sink")));
    return sidecar.log();
  }

  @Override
  public Batch<Callback> begin(Address address) {
    return new Batch<>() {
      @Override
      public Callback record(AppliedTransaction t) {
        try {
          callback.accept(t);
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new ReplikonException(Reason.INVALID_INPUT, "the callback failed on "
              + t.key() + ": " + e, e);
        }
        return callback;
      }

      @Override
      public void commit(AppliedLog log) {
        Sidecar next = sidecar.with(address, 0, log);
        sidecarPath.ifPresent(next::write);
        sidecar = next;
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void reset(Address address) {
    sidecar = Sidecar.EMPTY;
    sidecarPath.ifPresent(sidecar::write);
  }

  @Override
  public boolean exactlyOnce() {
    return false;
  }

  @Override
  public void close() {}
}
