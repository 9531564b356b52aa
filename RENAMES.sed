# Tx methods -> Tx aggregates (store split by aggregate). Run with: sed -E -i -f RENAMES.sed FILES
s/\btx\.find_links\(/tx.links.find(/g
s/\btx\.live_content_hashes\(/tx.links.live_hashes(/g
s/\btx\.current_source_data\(/tx.links.current_data(/g
s/\btx\.links_of\(/tx.links.of_records(/g
s/\btx\.insert_links\(/tx.links.insert_many(/g
s/\btx\.insert_link\(/tx.links.insert(/g
s/\btx\.save_links\(/tx.links.save(/g
s/\btx\.link_data\(/tx.links.data_of(/g
s/\btx\.load_records\(/tx.records.load(/g
s/\btx\.insert_records\(/tx.records.insert_many(/g
s/\btx\.insert_record\(/tx.records.insert(/g
s/\btx\.save_records\(/tx.records.save(/g
s/\btx\.delete_record\(/tx.records.delete(/g
s/\btx\.audit_rows\(/tx.audit.rows(/g
s/\btx\.insert_audit\(/tx.audit.insert(/g
s/\btx\.add_audit\(/tx.audit.add(/g
s/\btx\.history\(/tx.audit.history(/g
s/\btx\.open_conflict\(/tx.conflicts.open(/g
s/\btx\.update_conflict\(/tx.conflicts.update(/g
s/\btx\.close_conflict\(/tx.conflicts.close(/g
s/\btx\.list_conflicts\(/tx.conflicts.find(/g
s/\btx\.add_source_error\(/tx.source_errors.add(/g
s/\btx\.source_errors\(/tx.source_errors.unresolved(/g
s/\btx\.get_cursor\(/tx.cursors.get(/g
s/\btx\.set_cursor\(/tx.cursors.set(/g
s/\btx\.enqueue_push\(/tx.outbox.enqueue(/g
s/\btx\.cancel_push\(/tx.outbox.cancel(/g
s/\btx\.pending_pushes\(/tx.outbox.pending(/g
s/\btx\.due_pushes\(/tx.outbox.due(/g
s/\btx\.complete_push\(/tx.outbox.complete(/g
s/\btx\.fail_push\(/tx.outbox.fail(/g
s/\btx\.outbox_depth\(/tx.outbox.depth(/g
s/\btx\.save_identities\(/tx.identities.save(/g
s/\btx\.people\(/tx.identities.emails(/g
s/\bOutboxStage\(tx, /tx.outbox.stage(/g
# Imports: row types and helpers moved from syncd.store.store to their aggregate's module.
s/^from syncd\.store\.store import LinkRow, OutboxRow, OutboxStage, Store, Tx, new_record_id$/from syncd.store.links import LinkRow\nfrom syncd.store.outbox import OutboxRow, OutboxStage\nfrom syncd.store.records import new_record_id\nfrom syncd.store.store import Store, Tx/
# Module functions that became Tx aggregates (not used by engine.py; here for completeness).
s/\breceived_at\(tx, /tx.inbox.received_at(/g
s/\bmark_done\(tx, /tx.inbox.mark_done(/g
s/\bbodies\(tx, /tx.inbox.bodies(/g
s/\binbox_depth\(tx\)/tx.inbox.depth()/g
s/\bload_tabs\(tx, /tx.rollup_tabs.load(/g
s/\bsave_tabs\(tx, /tx.rollup_tabs.save(/g
s/\blast_write\(tx, /tx.rollup_tabs.last_write(/g
# Imports of names that moved out of syncd.store.store.
s/^from syncd\.store\.store import ConflictRow$/from syncd.store.conflicts import ConflictRow/
s/^from syncd\.store\.store import LinkRow$/from syncd.store.links import LinkRow/
s/^from syncd\.store\.store import new_record_id$/from syncd.store.records import new_record_id/
s/^from syncd\.store\.store import audit_entries$/from syncd.store.audit import audit_entries/
