/*
 * uffd-remap-vs-khugepaged / rfc-v2 with NFAULT faulting threads, in Promela, at mmsim's granularity
 * (bench/spin.ts; `spin -DNFAULT=2 -a remap-vs-khugepaged.pml`). The same world as bench/faulting.ts:
 * one mm; src VMA = pmd 0 (PTE table T0, page 0 mapped by an exclusive anon folio F0), dst VMA =
 * pmd 1 (none, uffd MISSING); 4 PTEs per table (HPAGE_PMD_NR scaled from 512).
 *   mover       UFFDIO_REMAP RFC v2 of src page 0 to dst page 0 under mmap_read_lock
 *               (actors/uffd/remap-rfc.ts, remap-rfc-pte.ts, remap-rfc-movers.ts; split_huge_pmd)
 *   khugepaged  one anon pass over src: scan under mmap_read_lock and the PTL, then collapse_huge_page
 *               under mmap_write_lock (actors/khugepaged/anon.ts, anon-collapse.ts)
 *   fault[i]    a user load of src page 1 + i % 3 (-DSAMEPAGE: page 1): lockless walk, then mmap_read_lock and
 *               do_anonymous_page (zero page) (actors/mm/access.ts, fault.ts, anon-fault.ts)
 * One Promela statement per lock operation and per pmd/pte access; what mmsim does between two
 * scheduling points (locals, folio fields, mmu-notifier counters) is folded into the statement it
 * precedes. Assertions: remap_pages_pte's four BUG_ONs, collapse's BUG_ON(!pmd_none(*pmd)), no PTE
 * written into a detached table (but the collapser's own), refcount >= mapcount, no PTE maps a
 * freed folio. -DKHUGEPAGED_MMAP_READ is the variant khugepaged-mmap-read (the collapse under
 * mmap_read_lock, the old table's PTL nested in the pmd lock around the flush): the BUG_ONs fire.
 * Simplified against mmsim: locks are not FIFO (no handoff), khugepaged's
 * mmap_read_trylock never fails here (no other writer), the RFC's trylock fallbacks are not
 * modelled (the folio and anon_vma locks are only taken by khugepaged under mmap_write_lock, which
 * excludes the mover's mmap_read_lock: the trylocks cannot fail; under KHUGEPAGED_MMAP_READ a
 * failed trylock is taken as a wait for the lock).
 */
#ifndef NFAULT
#define NFAULT 0
#endif

#define NONE 0
#define HUGE 9          /* pmd: 0 none, 1 + t table t, HUGE a huge pmd of folio H */
#define ZP 1            /* pte: 0 none, ZP the zero page, F0P folio F0, H0P + i sub-page i of H */
#define F0P 2
#define H0P 3
#define ATTACHED 1
#define DETACHED 2

byte pmd[2];
byte tstate[2];         /* T0 (src), T1 (dst, allocated by the mover) */
byte pte[8];            /* table t, index i: pte[4 * t + i] */
byte ptl[2];            /* split PTLs: holder pid + 1 */
byte pmdl;              /* mm->page_table_lock */
byte mm_w; byte mm_r; byte mm_ww;   /* mmap_lock: writer, readers, queued writers */
byte av_w;              /* src anon_vma rwsem (write only here) */
byte f0_lock; byte f0_ref; byte f0_map; bool f0_freed;
byte h_ref; byte h_map;
byte deposit;           /* table deposited under the huge pmd, 1 + t */

#define spin_lock(l)    atomic { l == 0 -> l = _pid + 1 }
#define spin_unlock(l)  l = 0
#define down_read       atomic { mm_w == 0 && mm_ww == 0 -> mm_r++ }
#define up_read         mm_r--
#define ptes_map_f0     (pte[0] == F0P || pte[1] == F0P || pte[2] == F0P || pte[3] == F0P || pte[4] == F0P || pte[5] == F0P || pte[6] == F0P || pte[7] == F0P)

proctype mover() {
  byte dval; byte sval; byte dt; byte st; byte odst; byte osrc; byte err;
  down_read;                                                     /* remap_pages:lock */
loop:
  atomic { dval = pmd[1]; assert(dval != HUGE) };                /* loop: dst pmdp_get_lockless */
  if                                                             /* thp: src pmd */
  :: pmd[0] == HUGE -> goto thp
  :: else -> goto pte_path
  fi;
thp:
  spin_lock(pmdl);                                               /* pmd_trans_huge_lock */
  if                                                             /* thp_check (len 1: split) */
  :: pmd[0] != HUGE -> spin_unlock(pmdl); goto pte_path
  :: else -> spin_unlock(pmdl)
  fi;
  spin_lock(pmdl);                                               /* split_huge_pmd */
  atomic {                                                       /* __split_huge_pmd_locked */
    if
    :: pmd[0] == HUGE ->
       pte[4 * (deposit - 1)] = H0P; pte[4 * (deposit - 1) + 1] = H0P + 1;
       pte[4 * (deposit - 1) + 2] = H0P + 2; pte[4 * (deposit - 1) + 3] = H0P + 3;
       h_ref = h_ref + 3; h_map = h_map + 3;
       tstate[deposit - 1] = ATTACHED; pmd[0] = deposit; deposit = 0
    :: else -> skip
    fi
  };
  spin_unlock(pmdl);
  goto loop;
pte_path:
  if                                                             /* pte_path: src pmd */
  :: pmd[0] == NONE -> err = 1; goto out
  :: else -> skip
  fi;
  if                                                             /* dst_alloc: dst pmd */
  :: pmd[1] == NONE ->
     tstate[1] = ATTACHED;                                       /* __pte_alloc:alloc */
     spin_lock(pmdl);
     atomic { if :: pmd[1] == NONE -> pmd[1] = 2 :: else -> tstate[1] = 0 fi };   /* populate */
     spin_unlock(pmdl)
  :: else -> skip
  fi;
  /* remap_pages_pte */
  atomic { dval = pmd[1]; dt = dval - 1 };                       /* retry: pte_offset_map_nolock(dst) */
  atomic { sval = pmd[0]; st = sval - 1 };                       /* map_src */
  assert(pmd[1] != NONE);                                        /* BUG_ON(pmd_none(*dst_pmd)) */
  assert(pmd[0] != NONE);                                        /* BUG_ON(pmd_none(*src_pmd)) */
  assert(pmd[1] != HUGE);                                        /* BUG_ON(pmd_trans_huge(*dst_pmd)) */
  assert(pmd[0] != HUGE);                                        /* BUG_ON(pmd_trans_huge(*src_pmd)) */
  spin_lock(ptl[dt]);                                            /* dst_lock */
  odst = pte[4 * dt];                                            /* dst_read */
  spin_unlock(ptl[dt]);
  if
  :: odst != NONE -> err = 2; goto done
  :: else -> skip
  fi;
  spin_lock(ptl[st]);                                            /* src_lock */
  osrc = pte[4 * st];                                            /* src_read */
  spin_unlock(ptl[st]);
  if
  :: osrc == NONE -> err = 3; goto done
  :: else -> skip
  fi;
  spin_lock(ptl[st]);                                            /* pin_lock */
  atomic {                                                       /* pin: pte_same, small exclusive anon folio */
    if
    :: pte[4 * st] != osrc || osrc != F0P -> err = 4             /* -EAGAIN / -EBUSY (large folio) */
    :: else -> f0_ref++
    fi
  };
  spin_unlock(ptl[st]);
  if
  :: err != 0 -> goto done
  :: else -> skip
  fi;
  atomic { f0_lock == 0 -> f0_lock = _pid + 1 };                /* folio_trylock (cannot fail in rfc-v2) */
  skip;                                                          /* anon: folio_get_anon_vma */
  atomic { av_w == 0 -> av_w = _pid + 1 };                       /* anon_vma_trylock_write */
  spin_lock(ptl[0]);                                             /* remap_anon_pte: double_pt_lock */
  spin_lock(ptl[1]);
  atomic {                                                       /* check */
    if
    :: pte[4 * st] != osrc || pte[4 * dt] != odst || f0_map != 1 -> err = 4
    :: else -> skip
    fi
  };
  if
  :: err == 0 ->
     atomic { assert(tstate[st] == ATTACHED); pte[4 * st] = NONE };   /* clear: ptep_clear_flush */
     atomic { assert(tstate[dt] == ATTACHED); pte[4 * dt] = F0P }     /* set: set_pte_at */
  :: else -> skip
  fi;
  spin_unlock(ptl[0]);
  spin_unlock(ptl[1]);
  av_w = 0;                                                      /* out: anon_vma_unlock_write */
  f0_lock = 0;                                                   /* out_folio */
  atomic { assert(f0_ref > f0_map); f0_ref-- };                  /* out_put */
done:
  skip;                                                          /* out_notify: mmu_notifier_invalidate_range_end */
out:
  up_read                                                        /* remap_pages:out */
}

proctype khugepaged() {
  byte t; byte none; byte iso;
  atomic { mm_w == 0 && mm_ww == 0 -> mm_r++ };                  /* mmap_read_trylock (no writer: succeeds) */
  if                                                             /* find: find_pmd_or_thp_or_none */
  :: pmd[0] == NONE || pmd[0] == HUGE -> goto unlock_read
  :: else -> skip
  fi;
map:
  if                                                             /* pte_offset_map_lock:map */
  :: pmd[0] == NONE || pmd[0] == HUGE -> goto unlock_read
  :: else -> t = pmd[0] - 1
  fi;
  spin_lock(ptl[t]);
  if                                                             /* recheck */
  :: pmd[0] != t + 1 -> spin_unlock(ptl[t]); goto map
  :: else -> skip
  fi;
  atomic {                                                       /* scan: the four PTEs under the PTL */
    none = (pte[4 * t] <= ZP -> 1 : 0) + (pte[4 * t + 1] <= ZP -> 1 : 0) + (pte[4 * t + 2] <= ZP -> 1 : 0) + (pte[4 * t + 3] <= ZP -> 1 : 0);
    iso = (none > 3 || f0_lock != 0 || f0_ref != f0_map -> 1 : 0)         /* SCAN_EXCEED_NONE_PTE, _PAGE_LOCK, _PAGE_COUNT */
  };
  spin_unlock(ptl[t]);
  if
  :: iso -> goto unlock_read
  :: else -> skip
  fi;
  /* collapse_huge_page */
  up_read;                                                       /* unlock_read */
  skip;                                                          /* alloc: the huge folio H */
  down_read;                                                     /* relock */
  if                                                             /* reval: check_pmd_state */
  :: pmd[0] == NONE || pmd[0] == HUGE -> goto unlock_read
  :: else -> skip
  fi;
#ifndef KHUGEPAGED_MMAP_READ
  up_read;                                                       /* unlock_read2 */
  atomic {                                                       /* mmap_write_lock */
    if
    :: mm_w == 0 && mm_r == 0 -> mm_w = _pid + 1
    :: else -> mm_ww++; (mm_w == 0 && mm_r == 0) -> mm_w = _pid + 1; mm_ww--
    fi
  };
  skip;                                                          /* reval_write / vma_start_write */
#endif
  if                                                             /* check_pmd */
  :: pmd[0] == NONE || pmd[0] == HUGE -> goto unlock_write
  :: else -> t = pmd[0] - 1
  fi;
  atomic { av_w == 0 -> av_w = _pid + 1 };                       /* anon_vma_lock_write */
  spin_lock(pmdl);                                               /* pmd_lock */
#ifdef KHUGEPAGED_MMAP_READ
  spin_lock(ptl[t]);                                             /* ptl_lock, nested */
#endif
  atomic { t = pmd[0] - 1; pmd[0] = NONE; tstate[t] = DETACHED };   /* pmdp_collapse_flush */
#ifdef KHUGEPAGED_MMAP_READ
  spin_unlock(ptl[t]);
#endif
  spin_unlock(pmdl);
  spin_lock(ptl[t]);                                             /* lock_old: the detached table */
  /* __collapse_huge_page_isolate: one PTE a step (only page 0 can map a folio: F0, trylocked) */
  atomic { none = 0; iso = 0;
           if :: pte[4 * t] == F0P -> f0_lock = _pid + 1; iso = 1 :: else -> none++ fi };
  atomic { if :: pte[4 * t + 1] == NONE || pte[4 * t + 1] == ZP -> none++ :: else -> skip fi };
  atomic { if :: pte[4 * t + 2] == NONE || pte[4 * t + 2] == ZP -> none++ :: else -> skip fi };
  atomic { if :: pte[4 * t + 3] == NONE || pte[4 * t + 3] == ZP -> none++ :: else -> skip fi;
           if :: none > 3 -> iso = 0 :: else -> skip fi };      /* SCAN_EXCEED_NONE_PTE */
  spin_unlock(ptl[t]);                                           /* iso_unlock */
  if
  :: iso == 0 ->                                                 /* isolation failed: restore the pmd */
     spin_lock(pmdl);
     atomic { assert(pmd[0] == NONE); pmd[0] = t + 1; tstate[t] = ATTACHED };   /* fail_populate */
     spin_unlock(pmdl);
     av_w = 0;
     goto unlock_write
  :: else -> skip
  fi;
  av_w = 0;                                                      /* av_unlock */
  f0_lock = 0;                                                   /* copy: release_pte_folio */
  spin_lock(ptl[t]);                                             /* copy_lock */
  atomic { pte[4 * t] = NONE; f0_map-- };                        /* copy_clear in its own detached table */
  spin_unlock(ptl[t]);
  atomic { assert(f0_ref > f0_map); f0_ref--;                    /* copy_put */
           if :: f0_ref == 0 -> f0_freed = 1; assert(!ptes_map_f0) :: else -> skip fi };
  spin_lock(pmdl);                                               /* install_lock */
  atomic { assert(pmd[0] == NONE); deposit = t + 1; h_ref = 1; h_map = 1; pmd[0] = HUGE };   /* install */
  spin_unlock(pmdl);
unlock_write:
#ifdef KHUGEPAGED_MMAP_READ
  up_read;                                                       /* out_read */
#else
  atomic { mm_w = 0 };                                           /* mmap_write_unlock */
#endif
  goto end;
unlock_read:
  up_read;
end:
  skip
}

proctype fault(byte p) {
  byte t; byte orig;
walk:
  if                                                             /* walk: pmd, then pte (one step) */
  :: pmd[0] == HUGE || (pmd[0] != NONE && pte[4 * (pmd[0] - 1) + p] != NONE) -> goto done
  :: else -> skip
  fi;
  down_read;                                                     /* fault: mmap_read_lock */
  if                                                             /* handle_mm_fault:start */
  :: pmd[0] == HUGE ->
     spin_lock(pmdl);                                            /* huge_pmd_set_accessed */
     spin_unlock(pmdl);
     goto faulted
  :: pmd[0] == NONE -> goto faulted                              /* unreachable under mmap_read_lock */
  :: else -> skip
  fi;
  atomic { t = pmd[0] - 1 };                                     /* map: pte_offset_map_rw_nolock */
  orig = pte[4 * t + p];                                         /* read */
  if
  :: orig != NONE ->
     spin_lock(ptl[t]); spin_unlock(ptl[t]); goto faulted        /* spurious read fault */
  :: else -> skip
  fi;
  skip;                                                          /* do_anonymous_page:start: pmd */
lock:
  atomic { t = pmd[0] - 1 };                                     /* pte_offset_map_lock:map */
  spin_lock(ptl[t]);
  if                                                             /* recheck */
  :: pmd[0] != t + 1 -> spin_unlock(ptl[t]); goto lock
  :: else -> skip
  fi;
  if                                                             /* zero_check */
  :: pte[4 * t + p] == NONE ->
     atomic { assert(tstate[t] == ATTACHED); pte[4 * t + p] = ZP }   /* zero_setpte */
  :: else -> skip
  fi;
  spin_unlock(ptl[t]);                                           /* unlock */
faulted:
  up_read;                                                       /* unlock */
  goto walk;
done:
  skip
}

init {
  byte i;
  atomic {
    pmd[0] = 1; tstate[0] = ATTACHED; pte[0] = F0P; f0_ref = 1; f0_map = 1;
    run mover();
    run khugepaged();
    do
#ifdef SAMEPAGE
    :: i < NFAULT -> run fault(1); i++
#else
    :: i < NFAULT -> run fault(1 + i % 3); i++
#endif
    :: else -> break
    od
  }
}
