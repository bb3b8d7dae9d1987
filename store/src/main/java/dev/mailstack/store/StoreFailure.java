package dev.mailstack.store;

/** The store's one failure vocabulary; each protocol maps it to replies in a single switch (STYLE.md R4). */
public enum StoreFailure {
    NOT_FOUND, ALREADY_EXISTS, EXPUNGED, NO_PERMISSION, HAS_CHILDREN, OVER_QUOTA, TOO_BIG, INVALID_NAME, LIMIT, TEMPORARY
}
