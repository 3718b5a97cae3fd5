// While the tab is hidden, the title alternates between "(3) new escalations" and the page's own
// title; when the tab is shown again it stops and the count starts over.

export interface TitleHost {
  title: string;
  readonly hidden: boolean;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

export class TitleFlasher {
  private count = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private showingCount = false;
  private readonly onVisibility = () => {
    if (!this.host.hidden) this.clear();
  };

  constructor(
    private readonly host: TitleHost,
    private baseTitle: string,
    private readonly periodMs = 1000,
  ) {
    host.addEventListener('visibilitychange', this.onVisibility);
  }

  /** The title to show when nothing is new (the current page's). */
  setBaseTitle(title: string) {
    this.baseTitle = title;
    if (!this.showingCount) this.host.title = title;
  }

  /** Counts `n` new escalations if the tab is hidden; visible tabs need no flashing. */
  notify(n = 1) {
    if (!this.host.hidden) return;
    this.count += n;
    this.host.title = this.countTitle();
    this.showingCount = true;
    this.timer ??= setInterval(() => {
      this.showingCount = !this.showingCount;
      this.host.title = this.showingCount ? this.countTitle() : this.baseTitle;
    }, this.periodMs);
  }

  get pending(): number {
    return this.count;
  }

  clear() {
    clearInterval(this.timer);
    this.timer = undefined;
    this.count = 0;
    this.showingCount = false;
    this.host.title = this.baseTitle;
  }

  dispose() {
    this.clear();
    this.host.removeEventListener('visibilitychange', this.onVisibility);
  }

  private countTitle() {
    return `(${this.count}) new escalation${this.count === 1 ? '' : 's'} · ${this.baseTitle}`;
  }
}
