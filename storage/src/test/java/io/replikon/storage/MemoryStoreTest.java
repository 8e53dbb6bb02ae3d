package io.replikon.storage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The store contract, run against the in-memory store. */
class MemoryStoreTest extends StoreContract {
  @Override
  protected Store newStore() {
    return Stores.inMemory();
  }

  @Test
  void describe_saysInMemory() {
    assertThat(store.describe()).isEqualTo("in-memory");
    assertThat(store.durability()).isEqualTo(Durability.NONE);
  }

  @Test
  void inMemory_eachCallIsANewEmptyStore() {
    store.put(Column.META, utf8("k"), utf8("v"));
    try (Store other = Stores.inMemory()) {
      assertThat(other.get(Column.META, utf8("k"))).isEmpty();
    }
  }
}
