package io.replikon.cdvcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.replikon.error.ReplikonException;
import java.util.Objects;

/**
 * One operation in a commit: {@code [fn, params]}. {@code fn} names the operation
 * ({@code "add-tweet"}); the application, not the store, gives it a meaning, and nothing is ever
 * evaluated. {@code params} is any value.
 *
 * <p>Immutable provided {@code params} is not changed after it is handed over.
 *
 * @param fn the name of the operation, not empty
 * @param params its argument
 */
public record Transaction(String fn, JsonNode params) {
  /** Checks the arguments. */
  public Transaction {
    Objects.requireNonNull(fn, "fn");
    Objects.requireNonNull(params, "params");
    if (fn.isEmpty()) {
      throw new IllegalArgumentException("a transaction needs a function name");
    }
  }

  /** Returns the value {@code [fn, params]}. */
  public JsonNode toValue() {
    ArrayNode out = JsonNodeFactory.instance.arrayNode(2);
    out.add(fn);
    out.add(params);
    return out;
  }

  /**
   * Reads {@code [fn, params]}.
   *
   * @throws ReplikonException with reason {@code MALFORMED_VALUE} if the value is not of that form
   */
  public static Transaction fromValue(JsonNode value) {
    if (!value.isArray() || value.size() != 2 || !value.get(0).isTextual()
        || value.get(0).asText().isEmpty()) {
      throw new ReplikonException(ReplikonException.Reason.MALFORMED_VALUE,
          "a transaction is [fn, params] with a non-empty string fn");
    }
    return new Transaction(value.get(0).asText(), value.get(1));
  }
}
