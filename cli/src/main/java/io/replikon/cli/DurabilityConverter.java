package io.replikon.cli;

import io.replikon.storage.Durability;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads {@code --durability}: sync, batch or none, in any case. */
final class DurabilityConverter implements ITypeConverter<Durability> {
  @Override
  public Durability convert(String value) {
    try {
      return Durability.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException("must be sync, batch or none, not '" + value + "'");
    }
  }
}
