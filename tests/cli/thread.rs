//! A review thread shaped like the ones lists deliver: a 5-patch series
//! posted twice (v1, then v2 with a changelog and a link to v1), 33
//! replies from 8 reviewers and from the author under two addresses,
//! every mail with the footer its list appended (majordomo's and vger's,
//! with and without a `--` line), top-posting, nested quotes, snips,
//! format=flowed, an mboxo `>From`, an Outlook-style original, a
//! two-line trailer, and a maintainer's conditional statement. The words
//! are ours; each reply says which comments a reader finds in it.

use std::fs;
use std::path::Path;

/// The footer linux-mm's majordomo appends (kvack.org).
pub const KVACK: &str = "To unsubscribe, send a message with 'unsubscribe linux-mm' in\nthe body to majordomo@kvack.org.  For more info on Linux MM,\nsee: http://www.linux-mm.org/ .\nDon't email: <a href=mailto:\"dont@kvack.org\"> email@kvack.org </a>\n";
/// The footer vger's majordomo appends.
pub const VGER: &str = "To unsubscribe from this list: send the line \"unsubscribe linux-kernel\" in\nthe body of a message to majordomo@vger.kernel.org\nMore majordomo info at  http://vger.kernel.org/majordomo-info.html\nPlease read the FAQ at  http://www.tux.org/lkml/\n";

/// How a list delivered a mail.
#[derive(Clone, Copy)]
pub enum List {
    /// linux-mm, its footer after a `--` line.
    Mm,
    /// linux-mm, its footer right after the text.
    MmBare,
    /// LKML, its footer after a `--` line.
    Lkml,
    /// LKML, its footer right after the text.
    LkmlBare,
}

impl List {
    fn headers(self) -> &'static str {
        match self {
            List::Mm | List::MmBare => {
                "List-Id: <linux-mm.kvack.org>\nList-Unsubscribe: <mailto:majordomo@kvack.org>\n"
            }
            List::Lkml | List::LkmlBare => {
                "List-Id: <linux-kernel.vger.kernel.org>\nX-Mailing-List: linux-kernel@vger.kernel.org\n"
            }
        }
    }

    fn footer(self) -> String {
        match self {
            List::Mm => format!("\n--\n{KVACK}"),
            List::MmBare => KVACK.to_string(),
            List::Lkml => format!("\n--\n{VGER}"),
            List::LkmlBare => VGER.to_string(),
        }
    }
}

/// One mail of the thread, as the archive has it.
#[derive(Clone, Debug)]
pub struct Mail {
    pub id: String,
    pub from: String,
    pub subject: String,
    pub to: String,
    pub cc: String,
    pub refs: Vec<String>,
    /// The whole mail: headers, a blank line, the body, the footer.
    pub text: String,
}

/// A comment a reader finds in a reply: where (version, patch of that
/// version, 0 the cover), what kind, its words.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expect {
    pub version: u32,
    pub patch: usize,
    pub kind: &'static str,
    pub text: String,
}

pub const AARON: &str = "Aaron Lu <aaron.lu@intel.com>";
pub const AARON2: &str = "Aaron Lu <aaron.lwe@gmail.com>";
const MEL: &str = "Mel Gorman <mgorman@techsingularity.net>";
const MICHAL: &str = "Michal Hocko <mhocko@kernel.org>";
const DAVE: &str = "Dave Hansen <dave.hansen@intel.com>";
const AKPM: &str = "Andrew Morton <akpm@linux-foundation.org>";
const VLASTIMIL: &str = "Vlastimil Babka <vbabka@suse.cz>";
const TIM: &str = "Tim Chen <tim.c.chen@linux.intel.com>";
const KIRILL: &str = "\"Kirill A. Shutemov\" <kirill@shutemov.name>";
const HILLF: &str = "Hillf Danton <hillf.zj@alibaba-inc.com>";

/// The code each patch adds (v1; v2 differs in patches 2 and 4).
pub const P1: &str = "static bool tlb_flush_mmu_free_batches(struct mmu_gather_batch *batch,\n\t\t\t\t       bool free_batch_page)\n{\n\tstruct mmu_gather_batch *next;\n\n\tfor (; batch; batch = next) {\n\t\tnext = batch->next;\n\t\tfree_pages_and_swap_cache(batch->pages, batch->nr);\n\t\tif (free_batch_page)\n\t\t\tfree_pages((unsigned long)batch, 0);\n\t}\n\treturn true;\n}\n";
const P2_V1: &str = "struct batch_free_struct {\n\tstruct work_struct work;\n\tstruct mmu_gather_batch *batch_start;\n\tstruct list_head list;\n};\n\nstatic void batch_free_work(struct work_struct *work)\n{\n\tstruct batch_free_struct *bfs = container_of(work, struct batch_free_struct, work);\n\n\ttlb_flush_mmu_free_batches(bfs->batch_start, 1);\n}\n\nstatic void hand_off(struct mmu_gather *tlb, struct batch_free_struct *bfs)\n{\n\tlist_add(&bfs->list, &tlb->worker_list);\n\tqueue_work(system_unbound_wq, &bfs->work);\n}\n";
const P2_V2: &str = "struct batch_free_struct {\n\tstruct work_struct work;\n\tstruct mmu_gather_batch *batch_start;\n\tstruct list_head list;\n};\n\nstatic void batch_free_work(struct work_struct *work)\n{\n\tstruct batch_free_struct *bfs = container_of(work, struct batch_free_struct, work);\n\n\ttlb_flush_mmu_free_batches(bfs->batch_start, true);\n}\n\nstatic void hand_off(struct mmu_gather *tlb, struct batch_free_struct *bfs)\n{\n\tlist_add_tail(&bfs->list, &tlb->worker_list);\n\tqueue_work(system_unbound_wq, &bfs->work);\n}\n";
const P3: &str = "static struct workqueue_struct *batch_free_wq;\n\nstatic int __init batch_free_wq_init(void)\n{\n\tbatch_free_wq = alloc_workqueue(\"batch_free_wq\", WQ_UNBOUND, 0);\n\treturn batch_free_wq ? 0 : -ENOMEM;\n}\nsubsys_initcall(batch_free_wq_init);\n";
const P4_V1: &str = "static void force_free_pages(struct mmu_gather *tlb)\n{\n\tif (tlb->page_nr >= 512)\n\t\ttlb_flush_mmu_free(tlb);\n}\n";
const P4_V2: &str = "static void force_free_pages(struct mmu_gather *tlb)\n{\n\tif (tlb->page_nr >= free_threshold)\n\t\ttlb_flush_mmu_free(tlb);\n}\n";
const P5: &str = "static unsigned long free_threshold = 512;\n\nstatic int __init parallel_free_debugfs(void)\n{\n\tstruct dentry *dir = debugfs_create_dir(\"parallel_free\", NULL);\n\n\tdebugfs_create_ulong(\"threshold\", 0600, dir, &free_threshold);\n\treturn 0;\n}\nlate_initcall(parallel_free_debugfs);\n";

const TITLES: [&str; 5] = [
    "mm: add tlb_flush_mmu_free_batches",
    "mm: parallel free pages",
    "mm: use a dedicated workqueue for the free workers",
    "mm: add force_free_pages in zap_pte_range",
    "mm: add debugfs interface for parallel free tuning",
];

/// `code` quoted as a reply quotes added lines: `> +line`.
fn q(code: &str, from: usize, to: usize) -> String {
    code.lines()
        .skip(from)
        .take(to - from)
        .map(|l| format!("> +{l}\n"))
        .collect()
}

/// Lay the tree out and commit v1 on `main` and v2 on `v2`, each five
/// patches on `v4.11-rc2`.
pub fn commit_versions(env: &super::common::Env) {
    env.base("v4.11-rc2");
    let memory: String = (1..=200).map(|i| format!("line {i}\n")).collect();
    for (branch, p2, p4) in [("main", P2_V1, P4_V1), ("v2", P2_V2, P4_V2)] {
        if branch == "v2" {
            env.git(&["checkout", "-q", "-b", "v2", "v4.11-rc2"]);
        }
        let mut text: Vec<String> = memory.lines().map(|l| format!("{l}\n")).collect();
        let adds = [(20, P1), (60, p2), (100, P3), (140, p4), (180, P5)];
        for (k, (at, code)) in adds.iter().enumerate() {
            // Insert below line `at` of the original (each earlier
            // patch's code is one element above).
            text.insert(at + k, code.to_string());
            env.write("mm/memory.c", text.concat());
            if k == 1 {
                env.write(
                    "include/asm-generic/tlb.h",
                    "int a;\nint b;\nstruct list_head worker_list;\n",
                );
            }
            let body = match k {
                1 => "Hand full batch chains to workers on an unbound workqueue, so that\nthe pages of a large munmap or exit are freed on several CPUs at once.",
                _ => "Part of freeing the pages of a large munmap or exit in parallel.",
            };
            env.commit(&format!(
                "{}\n\n{body}\n\nSigned-off-by: Aaron Lu <aaron.lu@intel.com>",
                TITLES[k]
            ));
        }
    }
    env.git(&["checkout", "-q", "main"]);
}

/// Headers and body as a list delivers a mail.
#[allow(clippy::too_many_arguments)]
fn mail(
    from: &str,
    to: &str,
    cc: &str,
    subject: &str,
    date: &str,
    id: &str,
    refs: &[String],
    extra: &str,
    body: &str,
    list: List,
) -> Mail {
    let mut head = format!("From: {from}\nTo: {to}\n");
    if !cc.is_empty() {
        head.push_str(&format!("Cc: {cc}\n"));
    }
    head.push_str(&format!(
        "Subject: {subject}\nDate: {date}\nMessage-ID: <{id}>\n"
    ));
    if let Some(last) = refs.last() {
        head.push_str(&format!("In-Reply-To: <{last}>\n"));
        let r: Vec<String> = refs.iter().map(|r| format!("<{r}>")).collect();
        head.push_str(&format!("References: {}\n", r.join("\n ")));
    }
    head.push_str(list.headers());
    head.push_str(extra);
    let mut text = format!("{head}\n{body}");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&list.footer());
    Mail {
        id: id.to_string(),
        from: from.to_string(),
        subject: subject.to_string(),
        to: to.to_string(),
        cc: cc.to_string(),
        refs: refs.to_vec(),
        text,
    }
}

/// One posting: its cover and five patches, as git format-patch makes the
/// patches, threaded under the cover, delivered by linux-mm.
pub(crate) fn posting(
    env: &super::common::Env,
    version: u32,
    range: &str,
    cover_body: &str,
    day: u32,
) -> Vec<Mail> {
    let stdout = env.git(&[
        "format-patch",
        "--stdout",
        &format!("-v{version}"),
        "--signature",
        "2.7.4",
        range,
    ]);
    let cover_id = format!("14895{version}{day}0-7817-1-git-send-email-aaron.lu@intel.com");
    let date = |k: usize| format!("Wed, {day} Mar 2017 17:0{k}:11 +0800");
    let to = "linux-mm@kvack.org, linux-kernel@vger.kernel.org";
    let cc = format!("{DAVE}, {TIM}, {AKPM}");
    let v = if version > 1 {
        format!("v{version} ")
    } else {
        String::new()
    };
    let mut out = vec![mail(
        AARON,
        to,
        &cc,
        &format!("[PATCH {v}0/5] mm: support parallel free of memory"),
        &date(0),
        &cover_id,
        &[],
        "",
        cover_body,
        List::Mm,
    )];
    let patches: Vec<&str> = stdout
        .split("\nFrom ")
        .map(|p| p.split_once('\n').map_or(p, |x| x.1))
        .collect();
    for (k, p) in patches.iter().enumerate() {
        let (head, body) = p.split_once("\n\n").unwrap();
        let subject = head
            .split("\nSubject: ")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string();
        out.push(mail(
            AARON,
            to,
            &cc,
            &subject,
            &date(k + 1),
            &format!(
                "14895{version}{day}0-7817-{}-git-send-email-aaron.lu@intel.com",
                k + 2
            ),
            std::slice::from_ref(&cover_id),
            "",
            body,
            if k % 2 == 0 { List::Mm } else { List::Lkml },
        ));
    }
    out
}

/// The thread: both postings, then every reply with the comments a
/// reader finds in it. `link_v1` is where the v2 cover says v1 is.
pub fn thread(
    env: &super::common::Env,
    link_v1: &dyn Fn(&str) -> String,
) -> (Vec<Mail>, Vec<(Mail, Vec<Expect>)>) {
    let cover1 = "This series frees the pages of a large munmap() or exit() in\nparallel: full batch chains are handed to kworkers on an unbound\nworkqueue instead of being freed by the unmapping task alone.\n\nA 320G malloc'ed area is freed about 4 times as fast on a 2-node\nmachine.\n\nAaron Lu (5):\n  mm: add tlb_flush_mmu_free_batches\n  mm: parallel free pages\n  mm: use a dedicated workqueue for the free workers\n  mm: add force_free_pages in zap_pte_range\n  mm: add debugfs interface for parallel free tuning\n\n mm/memory.c | 60 +++++++++++++++++\n 1 file changed\n\n-- \n2.7.4\n";
    let v1 = posting(env, 1, "v4.11-rc2..main", cover1, 8);
    let link = link_v1(&v1[0].id);
    let cover2 = format!("This series frees the pages of a large munmap() or exit() in\nparallel: full batch chains are handed to kworkers on an unbound\nworkqueue instead of being freed by the unmapping task alone.\n\nA 320G malloc'ed area is freed about 4 times as fast on a 2-node\nmachine.\n\nv2 changes:\n- queue the workers with list_add_tail(), so tlb_finish_mmu() waits for\n  the oldest one first\n- free_batch_page is a bool, not an int\n- force_free_pages() follows the threshold knob\n\nv1 is here:\n{link}\n\nAaron Lu (5):\n  mm: add tlb_flush_mmu_free_batches\n  mm: parallel free pages\n  mm: use a dedicated workqueue for the free workers\n  mm: add force_free_pages in zap_pte_range\n  mm: add debugfs interface for parallel free tuning\n\n mm/memory.c | 60 +++++++++++++++++\n 1 file changed\n\n-- \n2.7.4\n");
    let v2 = posting(env, 2, "v4.11-rc2..v2", &cover2, 15);
    let mut postings = v1.clone();
    postings.extend(v2.clone());
    let mut replies: Vec<(Mail, Vec<Expect>)> = Vec::new();
    let mut n = 0;
    // A reply to `parent` from `from`, To the parent's sender and Cc
    // everyone else on it.
    let mut re = |from: &str,
                  parent: &Mail,
                  body: &str,
                  list: List,
                  extra: &str,
                  expect: Vec<Expect>|
     -> Mail {
        n += 1;
        let mut refs = parent.refs.clone();
        refs.push(parent.id.clone());
        let mut cc: Vec<String> = parent
            .to
            .split(", ")
            .chain(parent.cc.split(", "))
            .filter(|a| !a.is_empty() && !a.contains(addr(from)))
            .map(str::to_string)
            .collect();
        cc.dedup();
        let subject = if parent.subject.starts_with("Re: ") {
            parent.subject.clone()
        } else {
            format!("Re: {}", parent.subject)
        };
        let m = mail(
            from,
            &parent.from,
            &cc.join(", "),
            &subject,
            &format!(
                "Thu, 16 Mar 2017 {:02}:{:02}:00 +0100",
                8 + n / 6,
                (n * 7) % 60
            ),
            &format!("reply-{n}@{}", addr(from).split('@').nth(1).unwrap_or("x")),
            &refs,
            extra,
            body,
            list,
        );
        replies.push((m.clone(), expect));
        m
    };
    let ex = |version: u32, patch: usize, kind: &'static str, text: &str| Expect {
        version,
        patch,
        kind,
        text: text.to_string(),
    };

    // v1's review.
    let d1 = re(
        DAVE,
        &v1[0],
        "How does this play with cgroup CPU accounting? The kworkers burn\nCPU time that nobody is charged for.\n\n-- \nDave\n\nOn 03/15/2017 02:00 AM, Aaron Lu wrote:\n> This series frees the pages of a large munmap() or exit() in\n> parallel: full batch chains are handed to kworkers on an unbound\n> workqueue instead of being freed by the unmapping task alone.\n",
        List::Lkml,
        "",
        vec![ex(1, 0, "remark", "How does this play with cgroup CPU accounting? The kworkers burn\nCPU time that nobody is charged for.")],
    );
    re(
        AARON,
        &d1,
        "On Thu, Mar 16, 2017 at 08:07:00AM +0100, Dave Hansen wrote:\n> How does this play with cgroup CPU accounting? The kworkers burn\n> CPU time that nobody is charged for.\n\nNot charged today, right; I will say so in the cover letter.\n\nThanks,\nAaron\n",
        List::Mm,
        "",
        vec![],
    );
    let m1 = re(
        MICHAL,
        &v1[2],
        &format!("On Wed 08-03-17 17:02:11, Aaron Lu wrote:\n[...]\n{}\nThis allocates with GFP_KERNEL under the page table lock, doesn't it?\n\n{}\nlist_add() makes tlb_finish_mmu() wait for the newest worker first.\nWhy not the oldest?\n\n-- \nMichal Hocko\nSUSE Labs\n", q(P2_V1, 6, 12), q(P2_V1, 14, 18)),
        List::Mm,
        "",
        vec![
            ex(1, 2, "remark", "This allocates with GFP_KERNEL under the page table lock, doesn't it?"),
            ex(1, 2, "remark", "list_add() makes tlb_finish_mmu() wait for the newest worker first.\nWhy not the oldest?"),
        ],
    );
    let mel1 = re(
        MEL,
        &m1,
        &format!("On Thu, Mar 16, 2017 at 08:14:00AM +0100, Michal Hocko wrote:\n> On Wed 08-03-17 17:02:11, Aaron Lu wrote:\n{}>\n> list_add() makes tlb_finish_mmu() wait for the newest worker first.\n> Why not the oldest?\n\nAgreed, the oldest is the one most likely to be done already.\n\n-- \nMel Gorman\nSUSE Labs\n", q(P2_V1, 14, 18).replace("> +", "> > +")),
        List::MmBare,
        "",
        vec![ex(1, 2, "remark", "Agreed, the oldest is the one most likely to be done already.")],
    );
    re(
        AARON2,
        &m1,
        "On Thu, Mar 16, 2017 at 08:14:00AM +0100, Michal Hocko wrote:\n> list_add() makes tlb_finish_mmu() wait for the newest worker first.\n> Why not the oldest?\n\nNo reason; v2 queues them with list_add_tail().\n",
        List::Mm,
        "",
        vec![],
    );
    let _ = mel1;
    re(
        VLASTIMIL,
        &v1[1],
        &format!("On 03/08/2017 10:02 AM, Aaron Lu wrote:\n{}\nNit: free_batch_page wants to be a bool in the callers too.\n\nReviewed-by: Vlastimil Babka <vbabka@suse.cz>\n", q(P1, 0, 2)),
        List::Lkml,
        "",
        vec![ex(1, 1, "remark", "Nit: free_batch_page wants to be a bool in the callers too.")],
    );
    re(
        TIM,
        &v1[3],
        &format!("On 03/08/2017 02:03 AM, Aaron Lu wrote:\n{}\nWith max_active of the unbound workqueue left at its default, a \nsingle exit can take every worker on the node. Have you tried \nlimiting it?\n\nTested-by: Tim Chen <tim.c.chen@linux.intel.com>\n", q(P3, 4, 6)),
        List::Mm,
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8; format=flowed\nContent-Transfer-Encoding: 8bit\n",
        vec![ex(1, 3, "remark", "With max_active of the unbound workqueue left at its default, a single exit can take every worker on the node. Have you tried limiting it?")],
    );
    let k1 = re(
        KIRILL,
        &v1[4],
        &format!("On Wed, Mar 08, 2017 at 05:04:11PM +0800, Aaron Lu wrote:\n> Part of freeing the pages of a large munmap or exit in parallel.\n\n[...]\n\n{}\n<snip>\n\n512 is a magic number. Where does it come from?\n\n-- \n Kirill A. Shutemov\n", q(P4_V1, 2, 4)),
        List::LkmlBare,
        "",
        vec![ex(1, 4, "remark", "512 is a magic number. Where does it come from?")],
    );
    re(
        AARON,
        &k1,
        "On Thu, Mar 16, 2017, Kirill A. Shutemov wrote:\n> 512 is a magic number. Where does it come from?\n\nIt is MAX_GATHER_BATCH; v2 takes it from the threshold knob.\n",
        List::Lkml,
        "",
        vec![],
    );
    re(
        HILLF,
        &v1[5],
        &format!(
            "{}\nThe knob should be read once per flush, READ_ONCE() please.\n\nThanks.\nHillf\n",
            q(P5, 6, 7)
        ),
        List::Mm,
        "",
        vec![ex(
            1,
            5,
            "remark",
            "The knob should be read once per flush, READ_ONCE() please.",
        )],
    );
    re(
        DAVE,
        &v1[2],
        &format!("On 03/08/2017 02:02 AM, Aaron Lu wrote:\n{}\nThe work item could be embedded in the batch itself, saving an\nallocation:\n\n\tstruct mmu_gather_batch {{\n\t\tstruct work_struct work;\n\t\t...\n\t}};\n\n-- \nDave\n", q(P2_V1, 0, 5)),
        List::Lkml,
        "",
        vec![ex(1, 2, "remark", "The work item could be embedded in the batch itself, saving an\nallocation:\n\n\tstruct mmu_gather_batch {\n\t\tstruct work_struct work;\n\t\t...\n\t};")],
    );
    re(
        MEL,
        &v1[4],
        "Looks good to me.\n\nAcked-by: Mel Gorman <mgorman@techsingularity.net>\n\n-- \nMel Gorman\nSUSE Labs\n",
        List::MmBare,
        "",
        vec![ex(1, 4, "ack", "Looks good to me.")],
    );
    re(
        MICHAL,
        &v1[5],
        "From the numbers in the cover letter two workers are plenty; a\ndebugfs file is not a tuning interface we want to keep, though.\n\n> +static unsigned long free_threshold = 512;\n\nWhy unsigned long and not unsigned int?\n",
        List::Mm,
        "",
        vec![
            ex(1, 5, "remark", "From the numbers in the cover letter two workers are plenty; a\ndebugfs file is not a tuning interface we want to keep, though."),
            ex(1, 5, "remark", "Why unsigned long and not unsigned int?"),
        ],
    );

    // v2's review.
    let akpm = re(
        AKPM,
        &v2[0],
        "Thanks, I'll queue 1-3 in mm-unstable once patch 4 is sorted.\n\nAcked-by: Andrew Morton <akpm@linux-foundation.org>\n",
        List::Lkml,
        "",
        vec![ex(2, 4, "remark", "Thanks, I'll queue 1-3 in mm-unstable once patch 4 is sorted.")],
    );
    re(
        AARON2,
        &akpm,
        "On Wed, 15 Mar 2017 10:00:00 -0700 Andrew Morton wrote:\n> Thanks, I'll queue 1-3 in mm-unstable once patch 4 is sorted.\n\nThank you, v3 will follow once Michal is happy with 4.\n",
        List::Mm,
        "",
        vec![],
    );
    let m2 = re(
        MICHAL,
        &v2[4],
        &format!("On Wed 15-03-17 17:04:11, Aaron Lu wrote:\n{}\nfree_threshold is read without any protection while debugfs may write\nit; use READ_ONCE().\n{}", q(P4_V2, 2, 4), q(P4_V2, 3, 5)),
        List::MmBare,
        "",
        vec![ex(2, 4, "remark", "free_threshold is read without any protection while debugfs may write\nit; use READ_ONCE().")],
    );
    let a2 = re(
        AARON,
        &m2,
        "On Thu, Mar 16, 2017, Michal Hocko wrote:\n> free_threshold is read without any protection while debugfs may write\n> it; use READ_ONCE().\n\nWill do.\n",
        List::Mm,
        "",
        vec![],
    );
    re(
        MICHAL,
        &a2,
        "On Thu 16-03-17, Aaron Lu wrote:\n> Will do.\n\nFair enough.\n\n-- \nMichal Hocko\nSUSE Labs\n",
        List::Mm,
        "",
        vec![ex(2, 4, "ack", "Fair enough.")],
    );
    let mel2 = re(
        MEL,
        &v2[2],
        &format!("On Wed, Mar 15, 2017 at 05:02:11PM +0800, Aaron Lu wrote:\n{}\nThis still does not limit how many chains one task may have in\nflight; a cap would keep the zapping thread from running far ahead.\n\nThe rest looks fine.\n\nReviewed-by: Mel Gorman <mgorman@techsingularity.net>\n\n-- \nMel Gorman\nSUSE Labs\n", q(P2_V2, 14, 18)),
        List::Mm,
        "",
        vec![
            ex(2, 2, "remark", "This still does not limit how many chains one task may have in\nflight; a cap would keep the zapping thread from running far ahead.\n\nThe rest looks fine."),
        ],
    );
    re(
        TIM,
        &v2[3],
        "I ran it on a 4-socket box: the exit of a 512G process went from\n19.4s to 5.1s, and nothing else on the machine slowed down.\n\nTested-by: Tim Chen <tim.c.chen@linux.intel.com>\n\n-----Original Message-----\nFrom: Aaron Lu\nSent: Wednesday, March 15, 2017 2:03 AM\nSubject: [PATCH v2 3/5] mm: use a dedicated workqueue for the free workers\n\nPart of freeing the pages of a large munmap or exit in parallel.\n",
        List::Lkml,
        "",
        vec![ex(2, 3, "remark", "I ran it on a 4-socket box: the exit of a 512G process went from\n19.4s to 5.1s, and nothing else on the machine slowed down.")],
    );
    re(
        VLASTIMIL,
        &v2[1],
        "Acked-by: Vlastimil Babka <vbabka@suse.cz>\n\nThanks!\n",
        List::Mm,
        "",
        vec![ex(2, 1, "ack", "Thanks!")],
    );
    re(
        KIRILL,
        &v2[5],
        &format!("On Wed, Mar 15, 2017 at 05:05:11PM +0800, Aaron Lu wrote:\n[...]\n{}[...]\n\nA threshold of zero hands every flush to a worker. Reject it?\n\n-- \n Kirill A. Shutemov\n", q(P5, 6, 7)),
        List::Lkml,
        "",
        vec![ex(2, 5, "remark", "A threshold of zero hands every flush to a worker. Reject it?")],
    );
    re(
        HILLF,
        &v2[2],
        &format!(
            "{}\nbatch_start is never cleared after the work is queued.\n\nThanks. Hillf\n",
            q(P2_V2, 2, 3)
        ),
        List::MmBare,
        "",
        vec![ex(
            2,
            2,
            "remark",
            "batch_start is never cleared after the work is queued.",
        )],
    );
    let t2 = re(
        TIM,
        &v2[0],
        "On 03/15/2017 02:00 AM, Aaron Lu wrote:\n> A 320G malloc'ed area is freed about 4 times as fast on a 2-node\n> machine.\n\nDid you measure a machine that is fully busy? Workers then compete\nwith everything else.\n",
        List::Mm,
        "",
        vec![ex(2, 0, "remark", "Did you measure a machine that is fully busy? Workers then compete\nwith everything else.")],
    );
    re(
        AARON,
        &t2,
        "On Thu, Mar 16, 2017, Tim Chen wrote:\n> Did you measure a machine that is fully busy?\n\nNot yet; I will.\n",
        List::Mm,
        "",
        vec![],
    );
    re(
        DAVE,
        &mel2,
        &format!("On 03/16/2017 01:00 AM, Mel Gorman wrote:\n> On Wed, Mar 15, 2017 at 05:02:11PM +0800, Aaron Lu wrote:\n{}>\n> This still does not limit how many chains one task may have in\n> flight.\n\nA cap of two chains per mmu_gather would do.\n\n-- \nDave\n", q(P2_V2, 14, 18).replace("> +", "> > +")),
        List::Lkml,
        "",
        vec![ex(2, 2, "remark", "A cap of two chains per mmu_gather would do.")],
    );
    re(
        MEL,
        &v2[5],
        "Reviewed-by: Mel Gorman\n<mgorman@techsingularity.net>\n\n-- \nMel Gorman\nSUSE Labs\n",
        List::MmBare,
        "",
        vec![],
    );
    re(
        AKPM,
        &v2[4],
        &format!("On Wed, 15 Mar 2017 17:04:11 +0800 Aaron Lu <aaron.lu@intel.com> wrote:\n\n{}\nPlease address Michal's concern and resend just this one.\n", q(P4_V2, 0, 2)),
        List::Lkml,
        "",
        vec![ex(2, 4, "remark", "Please address Michal's concern and resend just this one.")],
    );
    re(
        KIRILL,
        &v2[3],
        "On Wed, Mar 15, 2017 at 05:03:11PM +0800, Aaron Lu wrote:\n> Part of freeing the pages of a large munmap or exit in parallel.\n\nNit: the changelog should say why a dedicated workqueue is needed.\n\nAcked-by: Kirill A. Shutemov <kirill.shutemov@linux.intel.com>\n",
        List::Mm,
        "",
        vec![ex(2, 3, "remark", "Nit: the changelog should say why a dedicated workqueue is needed.")],
    );
    let v2p2 = &v2[2];
    re(
        VLASTIMIL,
        v2p2,
        &format!("Hi Aaron,\n\nOn 03/15/2017 10:02 AM, Aaron Lu wrote:\n{}\nCan container_of() here ever see a freed work item?\n\nThanks,\nVlastimil\n", q(P2_V2, 8, 9)),
        List::LkmlBare,
        "",
        vec![ex(2, 2, "remark", "Can container_of() here ever see a freed work item?")],
    );
    re(
        HILLF,
        &v2[0],
        "Looks good.\n\nReviewed-by: Hillf Danton <hillf.zj@alibaba-inc.com>\n",
        List::Mm,
        "",
        vec![ex(2, 0, "ack", "Looks good.")],
    );
    re(
        MICHAL,
        &mel2,
        "On Thu 16-03-17 09:00:00, Mel Gorman wrote:\n> The rest looks fine.\n\nAgreed.\n",
        List::Mm,
        "",
        vec![ex(2, 2, "ack", "Agreed.")],
    );
    re(
        DAVE,
        &v2[1],
        &format!("On 03/15/2017 02:01 AM, Aaron Lu wrote:\n{}\nreturn true is all this ever returns; make it void.\n\n-- \nDave\n", q(P1, 11, 12)),
        List::Lkml,
        "",
        vec![ex(2, 1, "remark", "return true is all this ever returns; make it void.")],
    );
    (postings, replies)
}

/// The bare address of `Name <addr>`.
pub fn addr(a: &str) -> &str {
    match (a.rfind('<'), a.rfind('>')) {
        (Some(l), Some(r)) if l < r => &a[l + 1..r],
        _ => a,
    }
}

/// Write mails as an mbox saved by a mail client (mboxo): a `From ` line
/// before each, a `From ` at the start of a body line escaped as `>From `.
pub fn write_mboxo(path: &Path, mails: &[&Mail]) {
    let mut out = String::new();
    for m in mails {
        out.push_str(&format!(
            "From {} Thu Mar 16 10:00:00 2017\n",
            addr(&m.from)
        ));
        for l in m.text.lines() {
            if l.starts_with("From ") {
                out.push('>');
            }
            out.push_str(l);
            out.push('\n');
        }
        out.push('\n');
    }
    fs::write(path, out).unwrap();
}

use std::process::Command;

use super::common::*;

/// A comment as `series review --all --json` lists it.
fn found(env: &Env) -> Vec<(Expect, String)> {
    let out = as_coauthor(env, &["review", "--all", "--json"]);
    assert_ok(&out);
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                Expect {
                    version: c["version"].as_u64().unwrap() as u32,
                    patch: c["patch"].as_u64().unwrap() as usize,
                    kind: if c["kind"] == "ack" { "ack" } else { "remark" },
                    text: c["text"].as_str().unwrap().to_string(),
                },
                c["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Found, missed, noise and footers leaked, against what a reader finds.
fn figures(env: &Env, replies: &[(Mail, Vec<Expect>)]) -> (usize, usize, usize, usize) {
    let mut want: Vec<Expect> = replies.iter().flat_map(|r| r.1.clone()).collect();
    let got: Vec<Expect> = found(env).into_iter().map(|f| f.0).collect();
    want.sort();
    let missed: Vec<&Expect> = want.iter().filter(|w| !got.contains(w)).collect();
    let noise: Vec<&Expect> = got.iter().filter(|g| !want.contains(g)).collect();
    let leaked = got
        .iter()
        .filter(|g| g.text.contains("unsubscribe") || g.text.contains("majordomo"))
        .count();
    eprintln!(
        "thread: {} comments expected, {} found, {} missed, {} noise, {} with a footer\nmissed: {missed:#?}\nnoise: {noise:#?}",
        want.len(),
        want.len() - missed.len(),
        missed.len(),
        noise.len(),
        leaked
    );
    (want.len() - missed.len(), missed.len(), noise.len(), leaked)
}

/// Every file of series/ but the replies as received: none may carry
/// what a list appended.
fn assert_no_footer(env: &Env) {
    for (path, bytes) in Env::snapshot(&env.series_dir()) {
        if path.starts_with("replies") {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        for word in ["unsubscribe", "majordomo", "Don't email"] {
            assert!(
                !text.contains(word),
                "{} carries the list's footer ({word}):\n{text}",
                path.display()
            );
        }
    }
}

/// Run series as someone who did not post the series (a co-author on
/// another machine), with the author's second address in `series.me`.
fn as_coauthor(env: &Env, args: &[&str]) -> std::process::Output {
    let tree = env.tree().to_string_lossy().into_owned();
    let mut full = vec!["--tree", tree.as_str()];
    full.extend_from_slice(args);
    env.series_env(
        &full,
        &[
            ("GIT_COMMITTER_NAME", "Ying Huang"),
            ("GIT_COMMITTER_EMAIL", "ying.huang@intel.com"),
        ],
    )
}

#[test]
fn a_list_thread_from_an_mbox_keeps_every_comment_and_no_footer() {
    let env = Env::new();
    commit_versions(&env);
    env.git(&["config", "series.me", "aaron.lwe@gmail.com"]);
    let (postings, replies) = thread(&env, &|id| {
        format!("https://lore.kernel.org/linux-mm/{id}/")
    });
    assert!(replies.len() >= 30);
    let mbox = env.dir.path().join("thread.mbox");
    let all: Vec<&Mail> = postings
        .iter()
        .chain(replies.iter().map(|r| &r.0))
        .collect();
    write_mboxo(&mbox, &all);
    let out = as_coauthor(
        &env,
        &[
            "init",
            "--mbox",
            mbox.to_str().unwrap(),
            "--base",
            "v4.11-rc2",
        ],
    );
    assert_ok(&out);
    assert!(stdout(&out).contains("Imported v2"), "{}", stdout(&out));
    assert!(stdout(&out).contains("Kept 33 replies"), "{}", stdout(&out));

    // Nothing the lists appended reached series/: the signature is the
    // poster's own (his git version), the cover is his prose.
    assert_no_footer(&env);
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    assert!(manifest.contains("signature = \"2.7.4\""), "{manifest}");
    let cover = fs::read_to_string(env.series_dir().join("cover.md")).unwrap();
    assert!(cover.starts_with("This series frees the pages"), "{cover}");
    assert!(
        !cover.contains("v2 changes")
            && !cover.contains("v1 is here")
            && !cover.contains("list_add_tail"),
        "{cover}"
    );
    // The changelog and v1's link went to the history, with v1's mails.
    let status = stdout(&as_coauthor(&env, &["status", "--json"]));
    let st: serde_json::Value = serde_json::from_str(&status).unwrap();
    let v1 = &st["history"][0];
    let v2 = &st["history"][1];
    assert_eq!(
        v1["message-ids"].as_array().map(Vec::len),
        Some(6),
        "{st:#}"
    );
    assert_eq!(v1["from"], "Aaron Lu <aaron.lu@intel.com>");
    assert!(v1["link"]
        .as_str()
        .unwrap()
        .contains("lore.kernel.org/linux-mm/"));
    assert_eq!(v2["changes"].as_array().unwrap().len(), 3, "{st:#}");
    assert_eq!(
        v2["changes"][0],
        "queue the workers with list_add_tail(), so tlb_finish_mmu() waits for the oldest one first"
    );

    // Every comment found, none made of noise or footers, the poster's
    // answers (from either address) never comments though a co-author runs series.
    let (ok, missed, noise, leaked) = figures(&env, &replies);
    assert_eq!((missed, noise, leaked), (0, 0, 0));
    assert_eq!(ok, 28);
    let states = found(&env);
    let state_of = |text: &str| {
        states
            .iter()
            .find(|(e, _)| e.text.starts_with(text))
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("no comment {text:?}"))
    };
    assert_eq!(state_of("How does this play"), "answered");
    assert_eq!(
        state_of("list_add() makes"),
        "answered",
        "answered from the second address"
    );
    assert_eq!(state_of("free_threshold is read"), "answered");
    assert_eq!(state_of("Fair enough."), "ack");
    assert_eq!(state_of("A threshold of zero"), "open");
    assert_eq!(state_of("Thanks, I'll queue 1-3"), "answered");

    // The maintainer's ack waits for patch 4: conditional there, given
    // to the rest; the two-line trailer is read; v1's ack on patch 4 is
    // for a patch that changed since.
    let out = as_coauthor(&env, &["trailers", "--json"]);
    let t: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let verdict = |patch: u64, who: &str, name: &str| -> Vec<String> {
        t.as_array()
            .unwrap()
            .iter()
            .filter(|x| x["patch"] == patch && x["from"].as_str().unwrap().contains(who))
            .filter(|x| x["trailer"].as_str().unwrap().starts_with(name))
            .map(|x| x["verdict"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(verdict(4, "Andrew", "Acked-by"), ["conditional"]);
    for p in [1, 2, 3, 5] {
        assert_eq!(verdict(p, "Andrew", "Acked-by"), ["new"], "patch {p}");
    }
    assert_eq!(verdict(5, "Mel", "Reviewed-by"), ["new"]);
    assert_eq!(verdict(4, "Mel", "Acked-by"), ["changed-since"]);

    // The next version: trailers applied, compared with b4's.
    assert_ok(&as_coauthor(&env, &["reroll"]));
    let out = as_coauthor(&env, &["trailers", "--apply"]);
    assert_ok(&out);
    let v2_mbox = env.dir.path().join("v2.mbox");
    let v2_mails: Vec<&Mail> = all
        .iter()
        .copied()
        .filter(|m| m.id == postings[6].id || m.refs.contains(&postings[6].id))
        .collect();
    let mut rd = String::new();
    for m in &v2_mails {
        rd.push_str("From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        for l in m.text.lines() {
            if l.trim_start_matches('>').starts_with("From ") {
                rd.push('>');
            }
            rd.push_str(l);
            rd.push('\n');
        }
        rd.push('\n');
    }
    fs::write(&v2_mbox, rd).unwrap();
    let b4_out = env.dir.path().join("b4");
    let mut b4 = Command::new(super::review::b4());
    hermetic(&mut b4, env.dir.path());
    let st = b4
        .current_dir(env.tree())
        .args(["--offline-mode", "am", "-m"])
        .arg(&v2_mbox)
        .arg("-o")
        .arg(&b4_out)
        .arg(&postings[6].id)
        .output()
        .expect("run b4");
    assert!(
        st.status.success(),
        "b4 am: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mbx = fs::read_dir(&b4_out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "mbx"))
        .expect("b4 wrote an .mbx");
    let mbx = fs::read_to_string(mbx).unwrap();
    let block = |t: &str| -> Vec<String> {
        let body = t.split_once("\n\n").map(|(_, b)| b).unwrap_or("");
        let message = body.split("\n---\n").next().unwrap_or("");
        let mut l: Vec<String> = message
            .trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap_or("")
            .lines()
            .map(str::to_string)
            .collect();
        l.sort();
        l
    };
    let theirs: Vec<Vec<String>> = mbx
        .split("\nFrom ")
        .filter(|s| s.contains("\n---\n"))
        .map(block)
        .collect();
    let ours: Vec<Vec<String>> = files(&env.series_dir().join("patches"))
        .into_iter()
        .map(|(_, b)| block(&String::from_utf8(b).unwrap()))
        .collect();
    assert_eq!(theirs.len(), 5);
    for (i, (t, o)) in theirs.iter().zip(&ours).enumerate() {
        let mut want = t.clone();
        // Where series differs on purpose: the ack that waits for patch 4
        // is not applied to it; v1's trailers on patches whose diff v2
        // kept carry over (b4 reads only v2's thread).
        if i == 3 {
            want.retain(|l| l != "Acked-by: Andrew Morton <akpm@linux-foundation.org>");
        }
        if i == 0 {
            want.push("Reviewed-by: Vlastimil Babka <vbabka@suse.cz>".into());
        }
        want.sort();
        want.dedup();
        assert_eq!(o, &want, "patch {}: b4 {t:#?}", i + 1);
    }

    // Reviewers of v1 and v2 are Cc'd on v3.
    let manifest = fs::read_to_string(env.series_dir().join("series.toml")).unwrap();
    for who in [
        "mgorman@techsingularity.net",
        "hillf.zj@alibaba-inc.com",
        "kirill@shutemov.name",
    ] {
        assert!(manifest.contains(who), "{who} not Cc'd on v3:\n{manifest}");
    }
    assert!(!manifest.contains("aaron.lwe@gmail.com"), "{manifest}");
}

#[test]
fn the_same_thread_from_a_public_inbox_then_replies_and_the_ledger_into_v3() {
    let env = Env::new();
    commit_versions(&env);
    env.git(&["config", "series.me", "aaron.lwe@gmail.com"]);
    let pi = super::import::PublicInbox::start(env.dir.path());
    let url = pi.url.clone();
    let (postings, replies) = thread(&env, &|id| format!("{url}/{id}/"));
    for m in postings.iter().chain(replies.iter().map(|r| &r.0)) {
        pi.deliver(&m.text);
    }
    // The v2 cover's thread; v1's comes from the link in its cover.
    let out = as_coauthor(
        &env,
        &[
            "init",
            "--from",
            &postings[6].id,
            "--lore",
            &pi.url,
            "--base",
            "v4.11-rc2",
        ],
    );
    assert_ok(&out);
    assert!(
        stderr(&out).contains("fetched v1's thread"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Kept 33 replies"), "{}", stdout(&out));
    assert_no_footer(&env);
    assert_eq!(figures(&env, &replies), (28, 0, 0, 0));
    let out = as_coauthor(&env, &["review", "fetch", "--lore", &pi.url]);
    assert_ok(&out);
    assert!(stdout(&out).contains("0 new replies"), "{}", stdout(&out));

    // A reply to Michal's comment on v2 patch 4 replies to all on his
    // mail but us, his words at `> `, the hunk he quoted at `>> `.
    let comments = found(&env);
    let out = as_coauthor(&env, &["review", "--all", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let id_of = |text: &str| -> String {
        all.as_array()
            .unwrap()
            .iter()
            .find(|c| c["text"].as_str().unwrap().starts_with(text))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(comments.len(), 28);
    let michal = id_of("free_threshold is read");
    let out = as_coauthor(&env, &["review", "reply", &michal[..5]]);
    assert_ok(&out);
    let draft =
        fs::read_to_string(env.work().join(format!("outgoing/replies/{michal}.eml"))).unwrap();
    let head = draft.split("\n\n").next().unwrap();
    assert!(
        head.contains("\nTo: Michal Hocko <mhocko@kernel.org>\n"),
        "{head}"
    );
    for cc in [
        "linux-mm@kvack.org",
        "linux-kernel@vger.kernel.org",
        "dave.hansen@intel.com",
        "tim.c.chen@linux.intel.com",
        "akpm@linux-foundation.org",
    ] {
        assert!(head.contains(cc), "{cc} missing:\n{head}");
    }
    let recipients = head.split("\nSubject:").next().unwrap();
    assert!(
        !recipients.contains("aaron.lu@intel.com") && !recipients.contains("aaron.lwe@gmail.com"),
        "{head}"
    );
    assert!(
        head.contains("From: Ying Huang <ying.huang@intel.com>"),
        "{head}"
    );
    assert!(
        draft.contains("\n>> +\tif (tlb->page_nr >= free_threshold)\n"),
        "{draft}"
    );
    assert!(
        draft.contains(
            "\n> free_threshold is read without any protection while debugfs may write\n"
        ),
        "{draft}"
    );
    assert!(draft.ends_with("*** YOUR ANSWER HERE ***\n"), "{draft}");

    // v3: patch 4's lines change, patch 5's do not.
    assert_ok(&as_coauthor(&env, &["reroll"]));
    assert_ok(&as_coauthor(&env, &["apply", "--branch", "v3"]));
    env.git(&["checkout", "-q", "v3~1"]);
    let memory = fs::read_to_string(env.tree().join("mm/memory.c")).unwrap();
    env.write(
        "mm/memory.c",
        memory.replace(
            "tlb->page_nr >= free_threshold",
            "tlb->page_nr >= READ_ONCE(free_threshold)",
        ),
    );
    env.git(&["commit", "-q", "-a", "--amend", "--no-edit"]);
    env.git(&["cherry-pick", "v3"]);
    env.git(&["branch", "-f", "v3", "HEAD"]);
    assert_ok(&as_coauthor(&env, &["refresh", "--branch", "v3"]));
    let out = as_coauthor(&env, &["review", "--all", "--json"]);
    let open: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let now = |text: &str| -> String {
        open.as_array()
            .unwrap()
            .iter()
            .find(|c| c["text"].as_str().unwrap().starts_with(text))
            .unwrap_or_else(|| panic!("{text} not open: {open:#}"))["lines_now"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(now("free_threshold is read"), "changed");
    assert_eq!(
        now("Please address Michal"),
        "untouched",
        "it quoted the lines above"
    );
    assert_eq!(now("A threshold of zero"), "untouched");
    let status = stdout(&as_coauthor(&env, &["status"]));
    assert!(
        status.contains("patch 4: 1 (1 untouched), patch 5: 4 (3 untouched)"),
        "{status}"
    );
    // The send names what is untouched; --strict refuses it.
    let kirill = id_of("A threshold of zero");
    let out = as_coauthor(
        &env,
        &["send", "--to", "linux-mm", "--dry-run", "--no-sign"],
    );
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!(
            "warning: comment {kirill} (Kirill A. Shutemov, v2 patch 5"
        )),
        "{}",
        stdout(&out)
    );
    let out = as_coauthor(
        &env,
        &[
            "send",
            "--to",
            "linux-mm",
            "--dry-run",
            "--strict",
            "--no-sign",
        ],
    );
    assert_fails(&out, 1, &["untouched in v3 (--strict)"]);
}
